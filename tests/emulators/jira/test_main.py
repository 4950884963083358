from __future__ import annotations

from pathlib import Path

import pytest

from tierbridge.emulators.jira import __main__ as cli
from tierbridge.emulators.jira.emulator import JiraEmulator
from tierbridge.emulators.jira.serve import startup_lines


def test_missing_secret_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--webhook-secret-env naming an unset variable exits with status 2 before serving."""
    monkeypatch.delenv("JIRA_TEST_UNSET", raising=False)

    status = cli.main(["--tls-dir", str(tmp_path), "--webhook-secret-env", "JIRA_TEST_UNSET"])

    assert status == 2
    assert "JIRA_TEST_UNSET" in capsys.readouterr().err


def test_startup_lines_name_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The start-up output gives the URL, the CA's absolute path, each account's e-mail and
    API token, and the webhook URL."""
    monkeypatch.chdir(tmp_path)
    url = "http://127.0.0.1:8080/webhooks/jsm"

    with JiraEmulator(tls_dir=Path("tls")) as emulator:
        lines = startup_lines(emulator, url, "k3y")
        quiet = startup_lines(emulator, None, None)

    assert lines[0] == f"Jira emulator at {emulator.base_url}"
    assert lines[1] == f"CA certificate: {tmp_path / 'tls' / 'ca.pem'}"
    assert "user svc.tierbridge@example.com / API token svc-api-token" in lines
    assert "user agent.l2@example.com / API token agent-api-token" in lines
    assert lines[-1] == f"webhooks (signed) go to {url}"
    assert quiet == lines[:-1]
