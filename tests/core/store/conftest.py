"""Fixtures that run each store test on SQLite and on PostgreSQL.

The PostgreSQL URL comes from TIERBRIDGE_TEST_PG_URL, by default the local server with
trust auth. Each test gets its own schema, selected through `search_path` in the URL and
dropped afterwards, so parallel runs and reruns never see each other's tables.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from tierbridge.core.store import Store

PG_URL = os.environ.get(
    "TIERBRIDGE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def libpq_url(url: str) -> str:
    """Return `url` without the SQLAlchemy driver suffix, as psycopg.connect expects it."""
    parsed = make_url(url).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


@functools.cache
def pg_unreachable_reason() -> str | None:
    """Return why the test PostgreSQL server cannot be used, or None when it can."""
    try:
        with psycopg.connect(libpq_url(PG_URL), connect_timeout=3):
            return None
    except psycopg.Error as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        masked_url = make_url(PG_URL).render_as_string(hide_password=True)
        return f"PostgreSQL at {masked_url} is unreachable ({first_line})"


@pytest.fixture
def pg_schema_url() -> Iterator[str]:
    """Yield a PostgreSQL URL whose search_path is a new, empty schema, dropped afterwards."""
    reason = pg_unreachable_reason()
    if reason is not None:
        pytest.skip(reason)

    schema = f"tb_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(libpq_url(PG_URL), autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
    try:
        url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(libpq_url(PG_URL), autocommit=True) as admin:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Return the URL of an empty store on the backend named by the test's parameter."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state' / 'store.db'}"
    url: str = request.getfixturevalue("pg_schema_url")
    return url


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """Yield an open store on each backend, closed after the test."""
    opened = Store.open(store_url)
    try:
        yield opened
    finally:
        opened.close()
