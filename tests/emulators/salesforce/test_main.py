from __future__ import annotations

from pathlib import Path

import pytest

from tierbridge.emulators.salesforce import __main__ as cli
from tierbridge.emulators.salesforce.emulator import SalesforceEmulator


def test_missing_secret_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--webhook-secret-env naming an unset variable exits with status 2 before serving."""
    monkeypatch.delenv("SF_TEST_UNSET", raising=False)

    status = cli.main(["--tls-dir", str(tmp_path), "--webhook-secret-env", "SF_TEST_UNSET"])

    assert status == 2
    assert "SF_TEST_UNSET" in capsys.readouterr().err


def test_arguments_reach_serve(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """main passes port, folder, URL and the token read from the variable to serve()."""
    calls: list[tuple[object, ...]] = []
    monkeypatch.setattr(cli, "serve", lambda *args: calls.append(args))
    monkeypatch.setenv("SF_TEST_TOKEN", "t0ken")
    argv = ["--port", "18445", "--tls-dir", str(tmp_path), "--webhook-url", "http://127.0.0.1:1/x"]

    status = cli.main([*argv, "--webhook-secret-env", "SF_TEST_TOKEN"])

    assert status == 0
    assert calls == [(18445, tmp_path, "http://127.0.0.1:1/x", "t0ken")]


def test_startup_lines_name_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The start-up output gives the URL, the CA's absolute path, the org, each client and the
    outbound message URL."""
    monkeypatch.chdir(tmp_path)
    url = "http://127.0.0.1:8080/webhooks/sf"

    with SalesforceEmulator(tls_dir=Path("tls")) as emulator:
        lines = cli.startup_lines(emulator, url, "k3y")
        quiet = cli.startup_lines(emulator, None, None)

    assert lines[0] == f"Salesforce emulator at {emulator.base_url}"
    assert lines[1] == f"CA certificate: {tmp_path / 'tls' / 'ca.pem'}"
    assert lines[2] == f"organization id {emulator.organization_id}"
    assert (
        "client tierbridge-client / secret tierbridge-client-secret "
        "(runs as svc.tierbridge@example.com)"
    ) in lines
    assert lines[-1] == f"outbound messages (token in ?token=) go to {url}"
    assert quiet == lines[:-1]
