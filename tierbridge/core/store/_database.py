"""Engine set-up for SQLite and PostgreSQL, and the schema upgrade run by `Store.open`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.pool import StaticPool

__all__ = ["build_engine", "is_memory", "normalize_url", "upgrade_schema"]

MIGRATIONS = Path(__file__).parent / "migrations"

#: Key of the PostgreSQL advisory lock that keeps two processes from migrating at once.
_MIGRATION_LOCK_KEY = 0x7442_5354

#: Execution option that selects how a SQLite transaction begins (see `_begin_sqlite`).
SQLITE_BEGIN = "tierbridge_sqlite_begin"

_SQLITE_PRAGMAS = (
    "PRAGMA busy_timeout=5000",
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
)


def normalize_url(url: str) -> URL:
    """Parse `url`, where a bare `postgresql://` selects psycopg 3, the driver tierbridge ships.

    Raises ValueError for a backend other than SQLite or PostgreSQL.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        msg = f"backend {parsed.get_backend_name()!r} is not supported"
        raise ValueError(msg)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def is_memory(url: URL) -> bool:
    """Tell whether `url` names an in-memory SQLite database."""
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def build_engine(url: URL) -> Engine:
    """Create the one engine of a store, with the per-connection settings of its backend."""
    if url.get_backend_name() != "sqlite":
        return create_engine(url, hide_parameters=True, pool_pre_ping=True)

    if is_memory(url):
        # One shared connection, since every new connection to :memory: is a new database.
        engine = create_engine(
            url,
            hide_parameters=True,
            poolclass=StaticPool,
            connect_args={"check_same_thread": False},
        )
    else:
        _create_parent_folder(url)
        engine = create_engine(url, hide_parameters=True)
    event.listen(engine, "connect", _configure_sqlite)
    event.listen(engine, "begin", _begin_sqlite)
    return engine


def _create_parent_folder(url: URL) -> None:
    database = url.database or ""
    if database.startswith("file:"):
        return
    Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _configure_sqlite(dbapi_connection: Any, _record: object) -> None:
    """Apply the pragmas and hand transaction control from the sqlite3 module to SQLAlchemy.

    By default the sqlite3 module of Python 3.11 sends its own BEGIN just before the first
    INSERT, UPDATE or DELETE, so the SELECTs before it run outside the transaction. Setting
    `isolation_level = None` turns that off, and `_begin_sqlite` sends BEGIN instead.
    """
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        for pragma in _SQLITE_PRAGMAS:
            cursor.execute(pragma)
    finally:
        cursor.close()


def _begin_sqlite(connection: Connection) -> None:
    """Begin each transaction IMMEDIATE unless its execution options select DEFERRED.

    An IMMEDIATE transaction takes the write lock at once, waiting up to `busy_timeout`.
    A deferred transaction that reads and then writes can instead fail with "database is
    locked" at once when another writer committed in between, and no wait helps it.
    """
    mode = connection.get_execution_options().get(SQLITE_BEGIN, "IMMEDIATE")
    connection.exec_driver_sql(f"BEGIN {mode}")


def upgrade_schema(engine: Engine) -> None:
    """Run the Alembic migrations up to the newest revision, leaving a current schema as is."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY}
            )
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
