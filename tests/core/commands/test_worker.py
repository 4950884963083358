"""Tests for `tierbridge worker`: what it checks before it starts a worker."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.core.runners.test_settings import write_config
from tierbridge.core.cli import main


def test_worker_needs_procrastinate_runner(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With the embedded runner, the command exits 2 and names the key to set."""
    path = write_config(tmp_path, "")

    status = main(["worker", "--config", str(path)])

    assert status == 2
    assert "needs `runner: procrastinate`" in capsys.readouterr().err


def test_worker_rejects_zero_concurrency(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A concurrency below 1 is a usage error."""
    path = write_config(tmp_path, "")

    status = main(["worker", "--config", str(path), "--concurrency", "0"])

    assert status == 2
    assert "--concurrency must be 1 or more" in capsys.readouterr().err


def test_worker_reports_bad_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A config error is printed with its location and exits 2."""
    path = write_config(tmp_path, "runner: procrastinate\n")

    status = main(["worker", "--config", str(path)])

    assert status == 2
    assert "needs a PostgreSQL store" in capsys.readouterr().err
