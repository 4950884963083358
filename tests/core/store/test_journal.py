"""The outbox of reserved writes and the sync log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tierbridge.core.errors import StoreError
from tierbridge.core.store import Store, SyncLogEntry

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class TestOutbox:
    def test_reserve_write(self, store: Store) -> None:
        """reserve_write stores a pending write with no result."""
        write = store.reserve_write(1, "jira", "create", "servicenow:abc123", NOW)

        assert write.status == "pending"
        assert write.result_id is None
        assert write.created_at == NOW
        assert write.done_at is None
        assert store.get_write("servicenow:abc123") == write

    def test_reserve_twice(self, store: Store) -> None:
        """Reserving a correlation id again returns the first reservation unchanged."""
        first = store.reserve_write(1, "jira", "create", "servicenow:abc123", NOW)

        again = store.reserve_write(2, "dynamics", "update", "servicenow:abc123", NOW)

        assert again == first
        assert store.pending_writes() == [first]

    def test_complete_write(self, store: Store) -> None:
        """complete_write marks the write done with the target's id and time."""
        store.reserve_write(1, "jira", "create", "servicenow:abc123", NOW)

        store.complete_write("servicenow:abc123", "10001", NOW + timedelta(seconds=1))
        write = store.get_write("servicenow:abc123")
        again = store.reserve_write(1, "jira", "create", "servicenow:abc123", NOW)

        assert write is not None
        assert write.status == "done"
        assert write.result_id == "10001"
        assert write.done_at == NOW + timedelta(seconds=1)
        assert again == write
        assert store.pending_writes() == []

    def test_complete_unreserved(self, store: Store) -> None:
        """complete_write for a correlation id never reserved raises StoreError."""
        with pytest.raises(StoreError, match="call reserve_write first"):
            store.complete_write("nothing", "10001", NOW)

    def test_pending_writes_order(self, store: Store) -> None:
        """pending_writes lists unconfirmed writes oldest first."""
        store.reserve_write(1, "jira", "create", "a", NOW)
        store.reserve_write(1, "jira", "comment", "b", NOW)
        store.reserve_write(1, "jira", "update", "c", NOW)
        store.complete_write("b", "c-1", NOW)

        assert [write.correlation_id for write in store.pending_writes()] == ["a", "c"]

    def test_missing_write(self, store: Store) -> None:
        """get_write returns None for an unknown correlation id."""
        assert store.get_write("nothing") is None


def _entry(minute: int, **changes: object) -> SyncLogEntry:
    values: dict[str, object] = {
        "at": NOW + timedelta(minutes=minute),
        "connector": "servicenow",
        "ticket_id": "abc123",
        "ticket_key": "INC0010001",
        "action": "updated",
        "link_id": 1,
    }
    values.update(changes)
    return SyncLogEntry(**values)  # type: ignore[arg-type]


class TestSyncLog:
    def test_log_round_trip(self, store: Store) -> None:
        """A logged entry comes back with every field."""
        entry = SyncLogEntry(
            at=NOW,
            event_id=7,
            link_id=3,
            connector="servicenow",
            ticket_id="abc123",
            ticket_key="INC0010001",
            action="escalated",
            target_connector="jira",
            target_ticket="OPS-1",
            fields=["status", "priority"],
            outcome="ok",
            attempt=2,
            duration_ms=12.5,
            error=None,
            detail="assignment group L2",
        )

        store.log(entry)
        [row] = store.sync_log()

        assert row.at == NOW
        assert row.event_id == 7
        assert row.link_id == 3
        assert (row.connector, row.ticket_id, row.ticket_key) == (
            "servicenow",
            "abc123",
            "INC0010001",
        )
        assert row.action == "escalated"
        assert (row.target_connector, row.target_ticket) == ("jira", "OPS-1")
        assert row.fields == ["status", "priority"]
        assert row.outcome == "ok"
        assert row.attempt == 2
        assert row.duration_ms == 12.5
        assert row.error is None
        assert row.detail == "assignment group L2"

    def test_log_needs_time(self, store: Store) -> None:
        """An entry without `at` raises StoreError."""
        with pytest.raises(StoreError, match=r"set entry\.at"):
            store.log(SyncLogEntry(connector="jira", ticket_id="1", action="updated"))

    def test_newest_first(self, store: Store) -> None:
        """sync_log returns the newest rows first, up to the limit."""
        for minute in (1, 3, 2):
            store.log(_entry(minute, detail=str(minute)))

        assert [row.detail for row in store.sync_log()] == ["3", "2", "1"]
        assert [row.detail for row in store.sync_log(limit=2)] == ["3", "2"]

    def test_filters(self, store: Store) -> None:
        """Each filter keeps only the rows that match it."""
        store.log(_entry(1, detail="sn-ok"))
        store.log(_entry(2, detail="sn-failed", outcome="failed", error="HTTP 500"))
        store.log(
            _entry(
                3, detail="jira", connector="jira", ticket_id="10001", ticket_key="OPS-1", link_id=2
            )
        )

        def details(**filters: object) -> list[str | None]:
            return [row.detail for row in store.sync_log(**filters)]  # type: ignore[arg-type]

        assert details(link_id=2) == ["jira"]
        assert details(connector="servicenow") == ["sn-failed", "sn-ok"]
        assert details(ticket="abc123") == ["sn-failed", "sn-ok"]
        assert details(ticket="OPS-1") == ["jira"]
        assert details(outcome="failed") == ["sn-failed"]
        assert details(connector="servicenow", outcome="ok") == ["sn-ok"]

    def test_time_window(self, store: Store) -> None:
        """`since` is inclusive and `until` exclusive."""
        for minute in (1, 2, 3):
            store.log(_entry(minute, detail=str(minute)))

        since = NOW + timedelta(minutes=2)
        until = NOW + timedelta(minutes=3)

        assert [row.detail for row in store.sync_log(since=since)] == ["3", "2"]
        assert [row.detail for row in store.sync_log(until=until)] == ["2", "1"]
        assert [row.detail for row in store.sync_log(since=since, until=until)] == ["2"]

    def test_count_actions(self, store: Store) -> None:
        """count_actions counts rows per action."""
        store.log(_entry(1, action="created"))
        store.log(_entry(2, action="updated"))
        store.log(_entry(3, action="updated"))

        assert store.count_actions() == {"created": 1, "updated": 2}
