"""Fixtures for the procrastinate runner: a PostgreSQL store and a job schema per test.

Each test gets a new schema for the store and another for procrastinate's tables, both
dropped afterwards, on the server named by TIERBRIDGE_TEST_PG_URL (the local one by
default). Tests are skipped, with the reason, when that server is unreachable.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import psycopg
import pytest
from sqlalchemy.engine import make_url

from tests.conftest import Stack, StackFactory
from tests.core.store.conftest import PG_URL, libpq_url, pg_unreachable_reason
from tierbridge.core.runners.connection import ensure_job_schema, job_connection_args
from tierbridge.core.runners.context import RUNTIME_KEY
from tierbridge.core.runners.procrastinate_app import build_app
from tierbridge.core.runners.settings import ProcrastinateSettings

if TYPE_CHECKING:
    from procrastinate import App

    from tierbridge.core.config import AppConfig
    from tierbridge.core.runtime import Runtime

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_schemas() -> Iterator[tuple[str, str]]:
    """Yield a store URL on a new schema, and the name of the job schema, both dropped after."""
    reason = pg_unreachable_reason()
    if reason is not None:
        pytest.skip(reason)

    schema = f"tb_run_{uuid.uuid4().hex[:12]}"
    job_schema = f"{schema}_jobs"
    with psycopg.connect(libpq_url(PG_URL), autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
    url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False), job_schema
    finally:
        with psycopg.connect(libpq_url(PG_URL), autocommit=True) as admin:
            admin.execute(f'DROP SCHEMA IF EXISTS "{job_schema}" CASCADE')
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


def procrastinate_config(config: AppConfig, job_schema: str) -> AppConfig:
    """Return `config` with `runner: procrastinate`, its jobs in `job_schema`."""
    settings = ProcrastinateSettings(
        job_schema=job_schema, heartbeat_seconds=1, stalled_after_seconds=5, sweep_seconds=1
    )
    return config.model_copy(update={"runner": "procrastinate", "procrastinate": settings})


@pytest.fixture
def job_stack(make_stack: StackFactory, pg_schemas: tuple[str, str]) -> Stack:
    """A stack on the emulators with a PostgreSQL store and procrastinate's tables ready."""
    store_url, job_schema = pg_schemas
    stack = make_stack(store_url=store_url)
    stack.rt.config = procrastinate_config(stack.rt.config, job_schema)
    ensure_job_schema(stack.rt.config)
    return stack


@pytest.fixture
def app(job_stack: Stack) -> App:
    """The stack's App, without periodic tasks so that only the jobs a test defers run."""
    built = build_app(job_stack.rt.config)
    built.periodic_registry.periodic_tasks.clear()
    return built


@contextmanager
def opened(app: App) -> Iterator[App]:
    """Open `app` for deferring from this thread, and close it after."""
    app.open()
    try:
        yield app
    finally:
        app.close()


def run_jobs(app: App, rt: Runtime, *, concurrency: int = 1) -> None:
    """Run a worker until no job is due, as `tierbridge worker` would run them."""
    app.run_worker(
        wait=False,
        concurrency=concurrency,
        install_signal_handlers=False,
        listen_notify=False,
        additional_context={RUNTIME_KEY: rt},
    )


def job_rows(config: AppConfig, query: str, *params: Any) -> list[tuple[Any, ...]]:
    """Run `query` in the job schema and return its rows."""
    conninfo, kwargs = job_connection_args(config.store.url, config.procrastinate.job_schema)
    with psycopg.connect(conninfo, autocommit=True, **kwargs) as connection:
        return list(connection.execute(query, params).fetchall())  # type: ignore[arg-type]
