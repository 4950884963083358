from __future__ import annotations

from pathlib import Path

import pytest

from tierbridge.emulators.dynamics import __main__ as cli


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
