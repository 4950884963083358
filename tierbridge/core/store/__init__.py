"""The state store: links, snapshots, cursors, inbox, outbox and sync log.

SQLite (WAL mode) by default and PostgreSQL in production, through SQLAlchemy 2. The schema
is managed by the Alembic revisions in `migrations/`, which `Store.open` applies.
"""

from __future__ import annotations

from tierbridge.core.store._store import Store
from tierbridge.core.store.rows import (
    AttachmentRow,
    CommentRow,
    CursorRow,
    InboxRow,
    OutboxRow,
    RefRow,
    SnapshotRow,
    SyncLogEntry,
    SyncLogRow,
)

__all__ = [
    "AttachmentRow",
    "CommentRow",
    "CursorRow",
    "InboxRow",
    "OutboxRow",
    "RefRow",
    "SnapshotRow",
    "Store",
    "SyncLogEntry",
    "SyncLogRow",
]
