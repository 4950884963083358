"""The public surface of `tierbridge.core.store`."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

import tierbridge.core.store as store_package
from tierbridge.core.store import RefRow, Store


def test_public_names() -> None:
    """The package exports the store and its row types, and nothing else."""
    assert store_package.__all__ == [
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


def test_rows_are_frozen(store: Store) -> None:
    """Returned rows cannot be changed in place."""
    ref = store.create_link("jira", "10001", "OPS-1", "L1")

    assert isinstance(ref, RefRow)
    with pytest.raises(dataclasses.FrozenInstanceError):
        ref.ticket_key = "OPS-2"  # type: ignore[misc]


def test_returned_json_is_a_copy(store: Store) -> None:
    """Changing a returned payload does not change the stored one."""
    now = datetime(2026, 3, 1, tzinfo=UTC)
    event_id = store.add_event("jira", "d-1", "1", "updated", "1", {"a": [1]}, now)
    first = store.get_event(event_id or 0)
    assert first is not None

    first.payload["a"].append(2)

    second = store.get_event(event_id or 0)
    assert second is not None
    assert second.payload == {"a": [1]}
