from __future__ import annotations

from pathlib import Path

import pytest

from tierbridge.emulators.dynamics import __main__ as cli
from tierbridge.emulators.dynamics.emulator import TENANT_ID, TIERBRIDGE_CLIENT, DynamicsEmulator


def test_missing_secret_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--webhook-secret-env naming an unset variable exits with status 2 before serving."""
    monkeypatch.delenv("DYN_TEST_UNSET", raising=False)

    status = cli.main(["--tls-dir", str(tmp_path), "--webhook-secret-env", "DYN_TEST_UNSET"])

    assert status == 2
    assert "DYN_TEST_UNSET" in capsys.readouterr().err


def test_arguments_reach_serve(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """main passes port, folder, URL and the secret read from the variable to serve()."""
    calls: list[tuple[object, ...]] = []
    monkeypatch.setattr(cli, "serve", lambda *args: calls.append(args))
    monkeypatch.setenv("DYN_TEST_KEY", "k3y")
    argv = ["--port", "18443", "--tls-dir", str(tmp_path), "--webhook-url", "http://127.0.0.1:1/x"]

    status = cli.main([*argv, "--webhook-secret-env", "DYN_TEST_KEY"])

    assert status == 0
    assert calls == [(18443, tmp_path, "http://127.0.0.1:1/x", "k3y")]


def test_startup_lines_name_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The start-up output gives the URL, the CA's absolute path, the tenant, each client and
    the webhook URL."""
    monkeypatch.chdir(tmp_path)
    url = "http://127.0.0.1:8080/webhooks/dyn"

    with DynamicsEmulator(tls_dir=Path("tls")) as emulator:
        lines = cli.startup_lines(emulator, url, "k3y")
        quiet = cli.startup_lines(emulator, None, None)

    client_id, secret = TIERBRIDGE_CLIENT
    assert lines[0] == f"Dynamics 365 emulator at {emulator.base_url}"
    assert lines[1] == f"CA certificate: {tmp_path / 'tls' / 'ca.pem'}"
    assert lines[2] == f"tenant {TENANT_ID}, authority host {emulator.base_url}"
    assert f"client {client_id} / secret {secret}" in lines
    assert lines[-1] == f"webhooks (key in header x-tierbridge-webhook-key) go to {url}"
    assert quiet == lines[:-1]
