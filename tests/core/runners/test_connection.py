"""Tests for reaching procrastinate's schema in the store's database."""

from __future__ import annotations

import pytest

from tests.conftest import DEMO_CONFIG, Stack
from tests.core.runners.conftest import job_rows
from tierbridge.core.config import load_config
from tierbridge.core.errors import StoreError
from tierbridge.core.runners.connection import ensure_job_schema, job_connection_args


def test_connection_args_set_search_path() -> None:
    """The driver suffix and the store's search_path go; other options stay."""
    conninfo, kwargs = job_connection_args(
        "postgresql+psycopg://app@db.internal:5433/tierbridge"
        "?options=-csearch_path%3Dstate%20-c%20statement_timeout%3D5000&sslmode=require",
        "jobs",
    )

    assert conninfo == "postgresql://app@db.internal:5433/tierbridge?sslmode=require"
    assert kwargs == {"options": "-c statement_timeout=5000 -c search_path=jobs"}


def test_connection_args_reject_sqlite() -> None:
    """A SQLite store cannot hold procrastinate's jobs."""
    with pytest.raises(StoreError, match="PostgreSQL"):
        job_connection_args("sqlite:///var/tierbridge.db", "jobs")


@pytest.mark.postgres
def test_job_schema_created_once(job_stack: Stack) -> None:
    """The tables exist after the fixture created them; a second call changes nothing."""
    config = job_stack.rt.config

    assert ensure_job_schema(config) is False
    assert job_rows(config, "SELECT count(*) FROM procrastinate_jobs") == [(0,)]


def test_job_schema_unreachable_raises() -> None:
    """An unreachable server raises StoreError naming the schema."""
    config = load_config(DEMO_CONFIG)
    store = config.store.model_copy(
        update={"url": "postgresql+psycopg://postgres@127.0.0.1:1/test"}
    )
    config = config.model_copy(update={"store": store})

    with pytest.raises(StoreError, match="'procrastinate'"):
        ensure_job_schema(config)
