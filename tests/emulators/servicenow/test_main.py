from __future__ import annotations

from pathlib import Path

import pytest

from tierbridge.emulators.servicenow import __main__ as cli
from tierbridge.emulators.servicenow.emulator import ServiceNowEmulator


def test_missing_secret_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--webhook-secret-env naming an unset variable exits with status 2 before serving."""
    monkeypatch.delenv("SNOW_TEST_UNSET", raising=False)

    status = cli.main(["--tls-dir", str(tmp_path), "--webhook-secret-env", "SNOW_TEST_UNSET"])

    assert status == 2
    assert "SNOW_TEST_UNSET" in capsys.readouterr().err


def test_arguments_reach_serve(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """main passes port, folder, URL and the secret read from the variable to serve()."""
    calls: list[tuple[object, ...]] = []
    monkeypatch.setattr(cli, "serve", lambda *args: calls.append(args))
    monkeypatch.setenv("SNOW_TEST_KEY", "k3y")
    argv = ["--port", "18443", "--tls-dir", str(tmp_path), "--webhook-url", "http://127.0.0.1:1/x"]

    status = cli.main([*argv, "--webhook-secret-env", "SNOW_TEST_KEY"])

    assert status == 0
    assert calls == [(18443, tmp_path, "http://127.0.0.1:1/x", "k3y")]


def test_startup_lines_name_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The start-up output gives the URL, the CA's absolute path, each user and the webhook URL."""
    monkeypatch.chdir(tmp_path)
    url = "http://127.0.0.1:8080/webhooks/snow"

    with ServiceNowEmulator(tls_dir=Path("tls")) as emulator:
        lines = cli.startup_lines(emulator, url, "k3y")
        quiet = cli.startup_lines(emulator, None, None)

    assert lines[0] == f"ServiceNow emulator at {emulator.base_url}"
    assert lines[1] == f"CA certificate: {tmp_path / 'tls' / 'ca.pem'}"
    assert "user svc.tierbridge / password svc-tierbridge-password" in lines
    assert "user agent.l1 / password agent-l1-password" in lines
    assert lines[-1] == f"webhooks (signed) go to {url}"
    assert quiet == lines[:-1]
