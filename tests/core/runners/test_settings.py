"""Tests for the `runner` key and the `procrastinate:` section of the config."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from tests.conftest import DEMO_CONFIG, ROOT
from tierbridge.core.config import load_config
from tierbridge.core.errors import ConfigError
from tierbridge.core.runners.settings import ProcrastinateSettings


def write_config(tmp_path: Path, extra: str, store_url: str | None = None) -> Path:
    """Write the demo config with absolute mapping paths, `extra` appended, to tmp_path."""
    text = DEMO_CONFIG.read_text(encoding="utf-8").replace("../mappings/", f"{ROOT / 'mappings'}/")
    if store_url is not None:
        text = text.replace("sqlite:///../var/tierbridge.db", store_url)
    path = tmp_path / "tierbridge.yaml"
    path.write_text(text + extra, encoding="utf-8")
    return path


def test_runner_defaults_to_embedded(tmp_path: Path) -> None:
    """A config without `runner` uses the embedded runner."""
    config = load_config(write_config(tmp_path, ""))

    assert config.runner == "embedded"
    assert config.procrastinate == ProcrastinateSettings()


def test_procrastinate_with_postgresql(tmp_path: Path) -> None:
    """`runner: procrastinate` with a PostgreSQL store loads, with its section's values."""
    path = write_config(
        tmp_path,
        "runner: procrastinate\nprocrastinate: {job_schema: tb_jobs, sweep_seconds: 5}\n",
        store_url="postgresql+psycopg://tierbridge@db.internal/tierbridge",
    )

    config = load_config(path)

    assert config.runner == "procrastinate"
    assert config.procrastinate.job_schema == "tb_jobs"
    assert config.procrastinate.sweep_seconds == 5


def test_procrastinate_needs_postgresql(tmp_path: Path) -> None:
    """`runner: procrastinate` on a SQLite store fails at the runner key's line."""
    path = write_config(tmp_path, "runner: procrastinate\n")
    line = len(path.read_text(encoding="utf-8").splitlines())

    with pytest.raises(ConfigError) as caught:
        load_config(path)

    message = str(caught.value)
    assert f"{path}:{line}:" in message
    assert "needs a PostgreSQL store" in message


def test_unknown_runner_rejected(tmp_path: Path) -> None:
    """A runner name other than embedded or procrastinate is an error naming both."""
    path = write_config(tmp_path, "runner: celery\n")

    with pytest.raises(ConfigError, match="embedded, procrastinate"):
        load_config(path)


def test_stall_longer_than_heartbeats() -> None:
    """A worker is taken for dead only after more than two missed heartbeats."""
    with pytest.raises(ValidationError, match="twice heartbeat_seconds"):
        ProcrastinateSettings(heartbeat_seconds=10, stalled_after_seconds=20)
