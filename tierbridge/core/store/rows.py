"""Plain values the store returns, so callers never hold an ORM object or a session.

Every datetime in a row is timezone-aware UTC. JSON columns come back as new lists and
dicts, so changing them changes nothing in the store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = [
    "AttachmentRow",
    "CommentRow",
    "CursorRow",
    "InboxRow",
    "OutboxRow",
    "RefRow",
    "SnapshotRow",
    "SyncLogEntry",
    "SyncLogRow",
]


@dataclass(frozen=True)
class RefRow:
    """One ticket in one system, and the link that groups it with its counterparts."""

    id: int
    link_id: int
    connector: str
    ticket_id: str
    ticket_key: str | None
    tier: str
    created_at: datetime


@dataclass(frozen=True)
class SnapshotRow:
    """The canonical state of a ticket as last synced (`Ticket.snapshot()` output)."""

    connector: str
    ticket_id: str
    version: str | None
    data: dict[str, Any]
    updated_at: datetime


@dataclass(frozen=True)
class CommentRow:
    """A comment in `connector` and the original comment it copies or is."""

    id: int
    link_id: int
    connector: str
    comment_id: str
    origin_connector: str
    origin_comment_id: str
    created_at: datetime
    #: SHA-256 (hex) of the origin's body as last copied; None on copies and older rows.
    body_hash: str | None = None


@dataclass(frozen=True)
class AttachmentRow:
    """A file in `connector` and the original file it copies or is."""

    id: int
    link_id: int
    connector: str
    attachment_id: str
    origin_connector: str
    origin_attachment_id: str
    sha256: str | None
    created_at: datetime


@dataclass(frozen=True)
class CursorRow:
    """A poll watermark and the `<id>:<version>` strings already read at that instant."""

    connector: str
    watermark: datetime
    seen: list[str]
    updated_at: datetime


@dataclass(frozen=True)
class InboxRow:
    """A received change event and its processing state.

    `status` is one of pending, processing, done, failed or dead. `attempts` counts claims,
    so a claimed event reports the attempt that is running.
    """

    id: int
    connector: str
    delivery_id: str
    ticket_id: str
    kind: str
    version: str | None
    payload: dict[str, Any]
    received_at: datetime
    status: str
    attempts: int
    available_at: datetime
    lease_until: datetime | None
    last_error: str | None
    finished_at: datetime | None


@dataclass(frozen=True)
class OutboxRow:
    """A write reserved before it is sent, with the id the target returned once it is done."""

    id: int
    link_id: int
    target_connector: str
    operation: str
    correlation_id: str
    status: str
    result_id: str | None
    created_at: datetime
    done_at: datetime | None


@dataclass
class SyncLogEntry:
    """One action of the engine, before it is stored.

    The engine builds entries while it works and sets `at` and `duration_ms` when the pass
    ends, so this class is mutable. `Store.log` raises StoreError if `at` is still None.
    """

    connector: str = ""
    ticket_id: str = ""
    action: str = ""
    at: datetime | None = None
    event_id: int | None = None
    link_id: int | None = None
    ticket_key: str | None = None
    target_connector: str | None = None
    target_ticket: str | None = None
    fields: list[str] = field(default_factory=list)
    outcome: str = "ok"
    attempt: int = 0
    duration_ms: float | None = None
    error: str | None = None
    detail: str | None = None


@dataclass(frozen=True)
class SyncLogRow:
    """A stored sync log entry."""

    id: int
    at: datetime
    event_id: int | None
    link_id: int | None
    connector: str
    ticket_id: str
    ticket_key: str | None
    action: str
    target_connector: str | None
    target_ticket: str | None
    fields: list[str]
    outcome: str
    attempt: int
    duration_ms: float | None
    error: str | None
    detail: str | None
