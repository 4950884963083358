"""Tables of the state store, as SQLAlchemy 2 declarative models.

The migrations in `migrations/versions/` create the same schema. A change here needs a new
revision there, because `Store.open` builds the schema from the migrations, not from these
models.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

__all__ = [
    "AttachmentMap",
    "Base",
    "CommentMap",
    "Cursor",
    "InboxEvent",
    "Link",
    "OutboxWrite",
    "Ref",
    "Snapshot",
    "SyncLog",
    "UtcDateTime",
    "utcnow",
]

#: Constraint names that Alembic batch mode on SQLite can find again when it rebuilds a table.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

INBOX_STATUSES = ("pending", "processing", "done", "failed", "dead")
OUTBOX_STATUSES = ("pending", "done")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({quoted})"


def utcnow() -> datetime:
    """Return the current time in UTC, for record-keeping columns such as `created_at`."""
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """A datetime that goes in aware and comes out aware, in UTC, on every backend.

    PostgreSQL stores `timestamp with time zone`. SQLite stores the UTC wall time as
    fixed-width text (`YYYY-MM-DD HH:MM:SS.ffffff`), so text order is time order and
    comparisons in SQL stay correct. A naive datetime is rejected with ValueError, since
    its zone cannot be known.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            msg = f"datetime {value.isoformat()} has no time zone; pass an aware datetime"
            raise ValueError(msg)
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# NOTE: PostgreSQL enforces the String lengths below and SQLite ignores them, so an id longer
# than its column (255 characters for ticket ids) fails with StoreError on PostgreSQL only.
class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UtcDateTime(), dict[str, Any]: JSON(), list[str]: JSON()}


class Link(Base):
    """One logical ticket, whose refs are its copies in each system."""

    __tablename__ = "links"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Ref(Base):
    __tablename__ = "refs"
    __table_args__ = (UniqueConstraint("connector", "ticket_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("links.id"), index=True)
    connector: Mapped[str] = mapped_column(String(100))
    ticket_id: Mapped[str] = mapped_column(String(255))
    ticket_key: Mapped[str | None] = mapped_column(String(255))
    tier: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Snapshot(Base):
    __tablename__ = "snapshots"

    connector: Mapped[str] = mapped_column(String(100), primary_key=True)
    ticket_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    version: Mapped[str | None] = mapped_column(String(255))
    data: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class CommentMap(Base):
    __tablename__ = "comment_map"
    __table_args__ = (
        UniqueConstraint("connector", "comment_id"),
        Index("ix_comment_map_origin", "origin_connector", "origin_comment_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    link_id: Mapped[int] = mapped_column(index=True)
    connector: Mapped[str] = mapped_column(String(100))
    comment_id: Mapped[str] = mapped_column(String(255))
    origin_connector: Mapped[str] = mapped_column(String(100))
    origin_comment_id: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: SHA-256 (hex) of the body last copied; on an origin's own row only (revision 0003).
    body_hash: Mapped[str | None] = mapped_column(String(64))


class AttachmentMap(Base):
    """A file on one ticket and the original it copies (or is), with its content hash."""

    __tablename__ = "attachment_map"
    __table_args__ = (
        UniqueConstraint("connector", "attachment_id"),
        Index("ix_attachment_map_link_hash", "link_id", "sha256"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    link_id: Mapped[int]
    connector: Mapped[str] = mapped_column(String(100))
    attachment_id: Mapped[str] = mapped_column(String(255))
    origin_connector: Mapped[str] = mapped_column(String(100))
    origin_attachment_id: Mapped[str] = mapped_column(String(255))
    #: SHA-256 (hex) of the bytes; None for a file seen but never read (too large for any target).
    sha256: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Cursor(Base):
    __tablename__ = "cursors"

    connector: Mapped[str] = mapped_column(String(100), primary_key=True)
    watermark: Mapped[datetime]
    seen: Mapped[list[str]]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class InboxEvent(Base):
    __tablename__ = "inbox"
    __table_args__ = (
        UniqueConstraint("connector", "delivery_id"),
        Index("ix_inbox_status_available_at", "status", "available_at"),
        Index("ix_inbox_ticket", "connector", "ticket_id", "id"),
        # The claim (`InboxStore.claim_event`) walks unfinished events in id order and looks
        # up each one's ticket, so these partial indexes keep it independent of the history
        # of finished events. The claim repeats the condition, which the planner must match.
        Index(
            "ix_inbox_unfinished",
            "id",
            sqlite_where=text("status IN ('pending', 'processing', 'failed')"),
            postgresql_where=text("status IN ('pending', 'processing', 'failed')"),
        ),
        Index(
            "ix_inbox_unfinished_ticket",
            "connector",
            "ticket_id",
            "id",
            sqlite_where=text("status IN ('pending', 'processing', 'failed')"),
            postgresql_where=text("status IN ('pending', 'processing', 'failed')"),
        ),
        CheckConstraint(_one_of("status", INBOX_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    connector: Mapped[str] = mapped_column(String(100))
    delivery_id: Mapped[str] = mapped_column(String(255))
    ticket_id: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(100))
    version: Mapped[str | None] = mapped_column(String(255))
    payload: Mapped[dict[str, Any]]
    received_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    available_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[datetime | None]


class OutboxWrite(Base):
    __tablename__ = "outbox"
    __table_args__ = (CheckConstraint(_one_of("status", OUTBOX_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    link_id: Mapped[int] = mapped_column(index=True)
    target_connector: Mapped[str] = mapped_column(String(100))
    operation: Mapped[str] = mapped_column(String(16))
    correlation_id: Mapped[str] = mapped_column(String(512), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    result_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime]
    done_at: Mapped[datetime | None]


class SyncLog(Base):
    __tablename__ = "sync_log"
    __table_args__ = (Index("ix_sync_log_ticket", "connector", "ticket_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    event_id: Mapped[int | None]
    link_id: Mapped[int | None] = mapped_column(index=True)
    connector: Mapped[str] = mapped_column(String(100))
    ticket_id: Mapped[str] = mapped_column(String(255))
    ticket_key: Mapped[str | None] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(64))
    target_connector: Mapped[str | None] = mapped_column(String(100))
    target_ticket: Mapped[str | None] = mapped_column(String(255))
    fields: Mapped[list[str]]
    outcome: Mapped[str] = mapped_column(String(16))
    attempt: Mapped[int] = mapped_column(default=0)
    duration_ms: Mapped[float | None]
    error: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[str | None] = mapped_column(Text)
