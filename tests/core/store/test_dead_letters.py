"""The dead-letter queue in the inbox: requeueing and dropping dead events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tierbridge.core.store import Store

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=2)
LEASE = 60.0


def park(store: Store, delivery: str, ticket: str = "10001", attempts: int = 1) -> int:
    """Store an event, claim it `attempts` times and park it as dead; return its id."""
    event_id = store.add_event("jira", delivery, ticket, "updated", "7", {"n": delivery}, NOW)
    assert event_id is not None
    for _ in range(attempts):
        claimed = store.claim_event(NOW, LEASE)
        assert claimed is not None
        assert claimed.id == event_id
        store.retry_event(event_id, "HTTP 503", NOW)
    store.dead_event(event_id, "no mapping for status 'Blocked'", now=NOW)
    return event_id


class TestRequeue:
    def test_requeue_one(self, store: Store) -> None:
        """A requeued dead event is pending, due at once, with its attempts reset."""
        event_id = park(store, "d-1", attempts=3)

        requeued = store.requeue_dead_events(LATER, event_id)
        event = store.get_event(event_id)

        assert requeued == [event_id]
        assert event is not None
        assert event.status == "pending"
        assert event.attempts == 0
        assert event.available_at == LATER
        assert event.finished_at is None
        assert event.lease_until is None
        assert event.last_error == "no mapping for status 'Blocked'"

    def test_requeued_event_claimable(self, store: Store) -> None:
        """A requeued event is claimed again, as its first attempt."""
        event_id = park(store, "d-1", attempts=2)
        store.requeue_dead_events(LATER, event_id)

        claimed = store.claim_event(LATER, LEASE)

        assert claimed is not None
        assert claimed.id == event_id
        assert claimed.attempts == 1

    def test_requeue_only_dead(self, store: Store) -> None:
        """A pending or done event is not requeued, and nothing changes."""
        pending = store.add_event("jira", "d-1", "1", "updated", "1", {}, NOW)
        assert pending is not None

        assert store.requeue_dead_events(LATER, pending) == []
        assert store.requeue_dead_events(LATER, 404) == []
        event = store.get_event(pending)
        assert event is not None
        assert event.available_at == NOW

    def test_requeue_all(self, store: Store) -> None:
        """Without an id, every dead event is requeued and other events are left alone."""
        first = park(store, "d-1", ticket="1")
        second = park(store, "d-2", ticket="2")
        done = store.add_event("jira", "d-3", "3", "updated", "1", {}, NOW)
        assert done is not None
        store.complete_event(done, now=NOW)

        requeued = store.requeue_dead_events(LATER)

        assert requeued == [first, second]
        done_row = store.get_event(done)
        assert done_row is not None
        assert done_row.status == "done"
        assert store.list_events(status="dead") == []


class TestDrop:
    def test_drop_finishes_event(self, store: Store) -> None:
        """A dropped dead event is returned as it was and stays stored as done, emptied."""
        event_id = park(store, "d-1", attempts=2)

        dropped = store.drop_dead_event(event_id, LATER)

        assert dropped is not None
        assert dropped.id == event_id
        assert dropped.status == "dead"
        stored = store.get_event(event_id)
        assert stored is not None
        assert stored.status == "done"
        assert stored.payload == {}
        assert stored.finished_at == LATER
        assert store.list_events(status="dead") == []

    def test_drop_blocks_same_delivery(self, store: Store) -> None:
        """A poll that reads the dropped version again stores no new event."""
        event_id = park(store, "d-1", attempts=2)
        store.drop_dead_event(event_id, LATER)

        again = store.add_event("jira", "d-1", "1", "updated", "1", {}, LATER)

        assert again is None
        assert store.pending_count() == 0

    def test_drop_logs_audit_row(self, store: Store) -> None:
        """The drop leaves a sync log row with the event id, attempts and last error."""
        link = store.create_link("jira", "10001", "L2-1", "L2")
        event_id = park(store, "d-1", attempts=2)

        store.drop_dead_event(event_id, LATER)
        rows = store.sync_log(ticket="10001")

        assert len(rows) == 1
        row = rows[0]
        assert row.action == "dropped"
        assert row.event_id == event_id
        assert row.link_id == link.link_id
        assert row.at == LATER
        assert row.attempt == 2
        assert row.error == "no mapping for status 'Blocked'"
        assert row.detail is not None
        assert "delivery d-1" in row.detail

    def test_drop_only_dead(self, store: Store) -> None:
        """A pending event or an unknown id is not dropped and logs nothing."""
        pending = store.add_event("jira", "d-1", "1", "updated", "1", {}, NOW)
        assert pending is not None

        assert store.drop_dead_event(pending, LATER) is None
        assert store.drop_dead_event(404, LATER) is None
        assert store.get_event(pending) is not None
        assert store.sync_log() == []
