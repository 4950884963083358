"""Schema migrations and connection settings, on SQLite and PostgreSQL."""

from __future__ import annotations

import socket
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect

from tierbridge.core.errors import StoreError
from tierbridge.core.store import Store
from tierbridge.core.store._database import MIGRATIONS, normalize_url
from tierbridge.core.store.tables import Base, InboxEvent

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TABLES = {
    "alembic_version",
    "attachment_map",
    "comment_map",
    "cursors",
    "inbox",
    "links",
    "outbox",
    "refs",
    "rule_states",
    "sla_clocks",
    "sla_timers",
    "snapshots",
    "sync_log",
    "ticket_activity",
    "tier_moves",
}


def _table_names(url: str) -> set[str]:
    engine = create_engine(normalize_url(url))
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _revision(url: str) -> str | None:
    engine = create_engine(normalize_url(url))
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def _head_revision() -> str | None:
    """Return the newest revision in the migrations folder."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


def test_open_creates_schema(store_url: str) -> None:
    """Opening an empty database creates every table at the newest revision."""
    Store.open(store_url).close()

    assert _table_names(store_url) == TABLES
    assert _revision(store_url) == _head_revision()


def test_reopen_keeps_data(store_url: str) -> None:
    """Reopening a current database migrates nothing and keeps its rows."""
    first = Store.open(store_url)
    event_id = first.add_event("jira", "d-1", "10001", "updated", "1", {}, NOW)
    first.close()

    second = Store.open(store_url)
    try:
        assert _revision(store_url) == _head_revision()
        assert second.get_event(event_id or 0) is not None
        assert second.add_event("jira", "d-1", "10001", "updated", "1", {}, NOW) is None
    finally:
        second.close()


def test_models_match_migrations(store: Store, store_url: str) -> None:
    """The migrated schema equals the ORM models, so neither drifted from the other."""
    engine = create_engine(normalize_url(store_url))
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()

    assert differences == []


def test_downgrade_then_upgrade(store_url: str) -> None:
    """The initial revision downgrades to an empty schema and upgrades again."""
    Store.open(store_url).close()
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    engine = create_engine(normalize_url(store_url))
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "base")
    finally:
        engine.dispose()

    assert _table_names(store_url) == {"alembic_version"}
    Store.open(store_url).close()
    assert _table_names(store_url) == TABLES


def test_url_and_dialect(store: Store, store_url: str) -> None:
    """A store reports its backend and its URL."""
    expected = "sqlite" if store_url.startswith("sqlite") else "postgresql"

    assert store.dialect == expected
    assert store.url == store_url


def test_url_masks_password(pg_schema_url: str) -> None:
    """The URL a store reports hides the password (PostgreSQL trust auth ignores it)."""
    with_password = pg_schema_url.replace("postgres@", "postgres:hunter2@", 1)
    store = Store.open(with_password)
    try:
        assert "hunter2" not in store.url
        assert "***" in store.url
    finally:
        store.close()


def test_sqlite_pragmas(tmp_path: Path) -> None:
    """Every SQLite connection runs in WAL mode with the configured pragmas (SQLite only)."""
    store = Store.open(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        with store._engine.connect() as connection:
            settings = {
                name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
            }
    finally:
        store.close()

    assert settings["journal_mode"] == "wal"
    assert settings["synchronous"] == 1  # NORMAL
    assert settings["foreign_keys"] == 1
    assert settings["busy_timeout"] == 5000


def test_sqlite_creates_folder(tmp_path: Path) -> None:
    """The folders of a SQLite file are created when missing (SQLite only)."""
    path = tmp_path / "a" / "b" / "state.db"

    Store.open(f"sqlite:///{path}").close()

    assert path.is_file()


def test_memory_store_across_threads() -> None:
    """An in-memory SQLite store is one database shared by all threads (SQLite only)."""
    store = Store.open("sqlite://")
    try:
        worker = threading.Thread(
            target=store.add_event, args=("jira", "d-1", "1", "updated", "1", {}, NOW)
        )
        worker.start()
        worker.join()

        assert store.pending_count() == 1
    finally:
        store.close()


def test_invalid_url_raises() -> None:
    """A URL SQLAlchemy cannot parse raises StoreError naming the expected forms."""
    with pytest.raises(StoreError, match="store URL is invalid"):
        Store.open("not a url")


def test_unreachable_server_raises() -> None:
    """A PostgreSQL server that refuses connections raises StoreError with the URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    with pytest.raises(StoreError, match=f"127.0.0.1:{port}"):
        Store.open(f"postgresql://postgres:secret@127.0.0.1:{port}/test")


def test_naive_datetime_rejected(store: Store) -> None:
    """A datetime without a time zone raises StoreError instead of being guessed."""
    with pytest.raises(StoreError, match="no time zone"):
        store.add_event("jira", "d-1", "1", "updated", "1", {}, datetime(2026, 3, 1, 12, 0))


def test_sql_errors_hide_values(store: Store) -> None:
    """A rejected row raises StoreError whose message carries none of the row's values."""
    row = InboxEvent(
        connector="jira",
        delivery_id="d-1",
        ticket_id="1",
        kind="updated",
        payload={"body": "private words"},
        received_at=NOW,
        available_at=NOW,
        status="bogus",
    )

    with pytest.raises(StoreError) as caught, store._write() as session:
        session.add(row)

    assert "state store operation failed" in str(caught.value)
    assert "private words" not in str(caught.value)
