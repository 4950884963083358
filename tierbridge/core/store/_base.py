"""Sessions and error translation shared by the parts of `Store`."""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from collections.abc import Iterator
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError, StatementError
from sqlalchemy.orm import Session, sessionmaker

from tierbridge.core.errors import StoreError
from tierbridge.core.store._database import SQLITE_BEGIN

__all__ = ["StoreBase", "describe", "to_row"]

RowT = TypeVar("RowT")


def to_row(row_type: type[RowT], record: object) -> RowT:
    """Copy the attributes of an ORM object named by the fields of dataclass `row_type`."""
    names = [item.name for item in dataclasses.fields(row_type)]  # type: ignore[arg-type]
    return row_type(**{name: getattr(record, name) for name in names})


class StoreBase:
    """One engine and two session factories: IMMEDIATE writes and deferred reads on SQLite.

    Each public method opens its own short session and commits or rolls back before it
    returns, so any thread may call any method. PostgreSQL sessions use the server's
    default isolation level, READ COMMITTED unless the server is configured otherwise.
    """

    def __init__(self, engine: Engine, *, serialize: bool) -> None:
        self._engine = engine
        self._writes = sessionmaker(engine, expire_on_commit=False)
        reader = engine.execution_options(**{SQLITE_BEGIN: "DEFERRED"})
        self._reads = sessionmaker(reader, expire_on_commit=False)
        # An in-memory SQLite store has one connection, so a lock lets one thread use it at a time.
        self._lock: contextlib.AbstractContextManager[Any] = (
            threading.Lock() if serialize else contextlib.nullcontext()
        )

    @property
    def dialect(self) -> str:
        """Backend name: 'sqlite' or 'postgresql'."""
        return self._engine.dialect.name

    @contextlib.contextmanager
    def _write(self) -> Iterator[Session]:
        """Open a session in a transaction that commits on success and rolls back on error."""
        with self._lock, _translated(), self._writes() as session, session.begin():
            yield session

    @contextlib.contextmanager
    def _read(self) -> Iterator[Session]:
        """Open a session for queries only, which takes no write lock on SQLite."""
        with self._lock, _translated(), self._reads() as session, session.begin():
            yield session

    def _insert(self, table: Any) -> Any:
        """Return the dialect's INSERT, which supports ON CONFLICT on both backends."""
        if self.dialect == "postgresql":
            return postgresql.insert(table)
        return sqlite.insert(table)


@contextlib.contextmanager
def _translated() -> Iterator[None]:
    """Re-raise database failures as StoreError, naming the cause but not the parameters."""
    try:
        yield
    except StoreError:
        raise
    except SQLAlchemyError as exc:
        msg = f"state store operation failed: {describe(exc)}"
        raise StoreError(msg) from exc


def describe(exc: SQLAlchemyError) -> str:
    """Name the driver's error and the first line of its message.

    Later lines are dropped: PostgreSQL adds a DETAIL line that can quote the failing row,
    and with it ticket text, and SQLAlchemy appends the SQL statement.
    """
    cause = exc.orig if isinstance(exc, StatementError) and exc.orig is not None else exc
    lines = str(cause).strip().splitlines()
    summary = lines[0] if lines else ""
    return f"{type(cause).__name__}: {summary}"
