"""The inbox: deduplication, per-ticket claim order, leases and state transitions."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from sqlalchemy import update

from tierbridge.core.errors import StoreError
from tierbridge.core.store import InboxRow, Store
from tierbridge.core.store.tables import InboxEvent

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
LEASE = 60.0


def add(store: Store, delivery: str, ticket: str = "10001", at: datetime = NOW) -> int:
    """Store an event and return its id, failing the test if it was a duplicate."""
    event_id = store.add_event("jira", delivery, ticket, "updated", "0001", {"n": delivery}, at)
    assert event_id is not None
    return event_id


def claim(store: Store, now: datetime = NOW) -> InboxRow:
    """Claim an event, failing the test if none is claimable."""
    event = store.claim_event(now, LEASE)
    assert event is not None
    return event


class TestAdd:
    def test_add_event(self, store: Store) -> None:
        """A new event is stored pending, due at once, with its payload."""
        event_id = add(store, "d-1")
        event = store.get_event(event_id)

        assert event is not None
        assert event.status == "pending"
        assert event.attempts == 0
        assert event.available_at == NOW
        assert event.received_at == NOW
        assert event.payload == {"n": "d-1"}
        assert event.lease_until is None

    def test_duplicate_delivery(self, store: Store) -> None:
        """A delivery stored before returns None and adds nothing."""
        add(store, "d-1")

        again = store.add_event("jira", "d-1", "10001", "updated", "0002", {}, NOW)

        assert again is None
        assert store.pending_count() == 1

    def test_same_delivery_other_connector(self, store: Store) -> None:
        """Delivery ids are unique per connector only."""
        add(store, "d-1")

        other = store.add_event("servicenow", "d-1", "abc", "updated", None, {}, NOW)

        assert other is not None

    def test_concurrent_duplicates(self, store: Store) -> None:
        """Two threads storing the same deliveries store each one once."""
        results: list[int | None] = []
        lock = threading.Lock()

        def deliver() -> None:
            for index in range(20):
                new_id = store.add_event("jira", f"d-{index}", str(index), "updated", "1", {}, NOW)
                with lock:
                    results.append(new_id)

        _run_together([deliver, deliver])

        stored = [new_id for new_id in results if new_id is not None]
        assert len(results) == 40
        assert len(stored) == 20
        assert len(set(stored)) == 20


class TestClaim:
    def test_claim_oldest(self, store: Store) -> None:
        """A claim takes the oldest due event, leases it and counts an attempt."""
        first = add(store, "d-1", ticket="1")
        add(store, "d-2", ticket="2")

        event = claim(store)

        assert event.id == first
        assert event.status == "processing"
        assert event.attempts == 1
        assert event.lease_until == NOW + timedelta(seconds=LEASE)

    def test_claim_empty(self, store: Store) -> None:
        """An empty inbox returns None."""
        assert store.claim_event(NOW, LEASE) is None

    def test_ticket_order_while_processing(self, store: Store) -> None:
        """A ticket's second event waits while its first runs, but other tickets do not."""
        first = add(store, "d-1", ticket="1")
        add(store, "d-2", ticket="1")
        other = add(store, "d-3", ticket="2")

        assert claim(store).id == first
        assert claim(store).id == other
        assert store.claim_event(NOW, LEASE) is None

    def test_ticket_order_while_retrying(self, store: Store) -> None:
        """A ticket's second event waits while its first waits for a retry."""
        first = add(store, "d-1", ticket="1")
        second = add(store, "d-2", ticket="1")
        claim(store)
        store.retry_event(first, "timed out", NOW + timedelta(minutes=5))

        assert store.claim_event(NOW + timedelta(minutes=1), LEASE) is None

        retried = claim(store, NOW + timedelta(minutes=5))
        assert retried.id == first
        assert retried.attempts == 2
        store.complete_event(first)
        assert claim(store, NOW + timedelta(minutes=5)).id == second

    def test_not_before_available(self, store: Store) -> None:
        """An event is not claimable before its available_at."""
        add(store, "d-1", at=NOW + timedelta(seconds=30))

        assert store.claim_event(NOW, LEASE) is None
        assert claim(store, NOW + timedelta(seconds=30)).delivery_id == "d-1"

    def test_lease_expiry_reclaim(self, store: Store) -> None:
        """An event whose lease expired is claimed again, with another attempt."""
        event_id = add(store, "d-1")
        claim(store)

        before_expiry = NOW + timedelta(seconds=LEASE - 1)
        assert store.claim_event(before_expiry, LEASE) is None

        again = claim(store, NOW + timedelta(seconds=LEASE))
        assert again.id == event_id
        assert again.attempts == 2
        assert again.lease_until == NOW + timedelta(seconds=2 * LEASE)

    def test_done_unblocks_ticket(self, store: Store) -> None:
        """Once a ticket's event is done, its next event is claimable."""
        first = add(store, "d-1")
        second = add(store, "d-2")
        claim(store)

        store.complete_event(first)

        assert claim(store).id == second

    def test_dead_unblocks_ticket(self, store: Store) -> None:
        """A dead event no longer holds back the events after it."""
        first = add(store, "d-1")
        second = add(store, "d-2")
        claim(store)

        store.dead_event(first, "mapping missing")

        assert claim(store).id == second

    def test_concurrent_claims(self, store: Store) -> None:
        """Two threads never claim the same event, nor two events of one ticket at once."""
        firsts = [add(store, f"a-{ticket}", ticket=str(ticket)) for ticket in range(15)]
        for ticket in range(15):
            add(store, f"b-{ticket}", ticket=str(ticket))
        claimed: list[InboxRow] = []
        lock = threading.Lock()

        def worker() -> None:
            while (event := store.claim_event(NOW, LEASE)) is not None:
                with lock:
                    claimed.append(event)

        _run_together([worker, worker])

        ids = [event.id for event in claimed]
        assert len(ids) == len(set(ids))
        assert sorted(ids) == firsts

    def test_expired_lease_before_next_event(self, store: Store) -> None:
        """An expired lease is claimed again before the next event of its ticket."""
        first = add(store, "d-1")
        add(store, "d-2")
        claim(store)

        again = claim(store, NOW + timedelta(seconds=LEASE))

        assert again.id == first
        assert again.attempts == 2

    def test_live_lease_of_newer_event_blocks(self, store: Store) -> None:
        """An older event waits while a newer event of its ticket holds a live lease.

        PostgreSQL can commit ids out of order, so a newer event may be claimed first.
        """
        older = add(store, "d-1")
        newer = add(store, "d-2")
        _set_status(store, newer, "processing", lease_until=NOW + timedelta(seconds=LEASE))

        assert store.claim_event(NOW, LEASE) is None
        assert claim(store, NOW + timedelta(seconds=LEASE)).id == older

    def test_claim_one_ticket(self, store: Store) -> None:
        """With connector and ticket_id, a claim takes only that ticket's oldest event."""
        add(store, "d-1", ticket="1")
        second = add(store, "d-2", ticket="2")
        add(store, "d-3", ticket="2")

        event = store.claim_event(NOW, LEASE, connector="jira", ticket_id="2")

        assert event is not None
        assert event.id == second
        assert store.claim_event(NOW, LEASE, connector="jira", ticket_id="2") is None
        assert store.claim_event(NOW, LEASE, connector="servicenow", ticket_id="1") is None

    def test_claim_some_connectors(self, store: Store) -> None:
        """With connectors, a claim takes only those connectors' events."""
        add(store, "d-1", ticket="1")
        other = store.add_event("servicenow", "s-1", "abc", "updated", None, {}, NOW)

        event = store.claim_event(NOW, LEASE, connectors=["servicenow"])

        assert event is not None
        assert event.id == other
        assert store.claim_event(NOW, LEASE, connectors=["servicenow"]) is None
        assert store.claim_event(NOW, LEASE, connectors=[]) is None

    def test_claim_is_one_statement(self, store: Store) -> None:
        """A claim sends one UPDATE … RETURNING and no separate SELECT."""
        add(store, "d-1")
        statements: list[str] = []

        def record(*args: Any) -> None:
            statements.append(args[2])

        sqlalchemy.event.listen(store._engine, "before_cursor_execute", record)
        try:
            claim(store)
        finally:
            sqlalchemy.event.remove(store._engine, "before_cursor_execute", record)

        sent = [text for text in statements if not text.startswith(("BEGIN", "COMMIT"))]
        assert len(sent) == 1
        assert sent[0].startswith("UPDATE inbox")
        assert "RETURNING" in sent[0]

    def test_claim_without_returning(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """A SQLite without RETURNING (before 3.35) raises StoreError naming the version."""
        store = Store.open(f"sqlite:///{tmp_path / 'store.db'}")
        try:
            add(store, "d-1")
            monkeypatch.setattr(store._engine.dialect, "update_returning", False)

            with pytest.raises(StoreError, match=r"SQLite [\d.]+ has no RETURNING"):
                store.claim_event(NOW, LEASE)
        finally:
            store.close()

    def test_concurrent_claim_and_complete(self, store: Store) -> None:
        """Four workers claiming and completing at once run each event once, in ticket order."""
        expected: dict[str, list[int]] = {str(ticket): [] for ticket in range(6)}
        for index in range(30):
            ticket = str(index % 6)
            expected[ticket].append(add(store, f"d-{index}", ticket=ticket))
        order: dict[str, list[int]] = {ticket: [] for ticket in expected}
        running: set[str] = set()
        overlaps: list[str] = []
        lock = threading.Lock()

        def worker() -> None:
            deadline = time.monotonic() + 30
            while store.pending_count() and time.monotonic() < deadline:
                event = store.claim_event(NOW, LEASE)
                if event is None:
                    continue
                with lock:
                    if event.ticket_id in running:
                        overlaps.append(event.ticket_id)
                    running.add(event.ticket_id)
                    order[event.ticket_id].append(event.id)
                time.sleep(0.002)  # hold the event, so another claim of its ticket would overlap
                with lock:
                    running.discard(event.ticket_id)
                store.complete_event(event.id)

        _run_together([worker] * 4)

        assert overlaps == []
        assert order == expected


class TestTransitions:
    def test_complete(self, store: Store) -> None:
        """complete_event marks the event done and clears its lease."""
        event_id = add(store, "d-1")
        claim(store)

        store.complete_event(event_id, now=NOW + timedelta(seconds=2))
        event = store.get_event(event_id)

        assert event is not None
        assert event.status == "done"
        assert event.lease_until is None
        assert event.finished_at == NOW + timedelta(seconds=2)
        assert store.pending_count() == 0

    def test_retry(self, store: Store) -> None:
        """retry_event makes the event pending again with its error and next time."""
        event_id = add(store, "d-1")
        claim(store)

        store.retry_event(event_id, "HTTP 503", NOW + timedelta(seconds=40))
        event = store.get_event(event_id)

        assert event is not None
        assert event.status == "pending"
        assert event.last_error == "HTTP 503"
        assert event.available_at == NOW + timedelta(seconds=40)
        assert event.lease_until is None
        assert event.attempts == 1

    def test_dead(self, store: Store) -> None:
        """dead_event parks the event with its error, and no claim returns it."""
        event_id = add(store, "d-1")
        claim(store)

        store.dead_event(event_id, "mapping missing", now=NOW)
        event = store.get_event(event_id)

        assert event is not None
        assert event.status == "dead"
        assert event.last_error == "mapping missing"
        assert event.finished_at == NOW
        assert store.claim_event(NOW + timedelta(days=1), LEASE) is None

    def test_release(self, store: Store) -> None:
        """release_event returns a claimed event to pending and takes back its attempt."""
        event_id = add(store, "d-1")
        claim(store)

        store.release_event(event_id)
        event = store.get_event(event_id)

        assert event is not None
        assert event.status == "pending"
        assert event.attempts == 0
        assert event.lease_until is None
        assert claim(store).id == event_id

    def test_release_after_complete(self, store: Store) -> None:
        """release_event leaves an event that already finished as it is."""
        event_id = add(store, "d-1")
        claim(store)
        store.complete_event(event_id)

        store.release_event(event_id)
        event = store.get_event(event_id)

        assert event is not None
        assert event.status == "done"
        assert event.attempts == 1

    @pytest.mark.parametrize("action", ["complete", "retry", "dead"])
    def test_unknown_event(self, store: Store, action: str) -> None:
        """Settling an event id that does not exist raises StoreError."""
        calls: dict[str, Callable[[], None]] = {
            "complete": lambda: store.complete_event(404),
            "retry": lambda: store.retry_event(404, "x", NOW),
            "dead": lambda: store.dead_event(404, "x"),
        }

        with pytest.raises(StoreError, match="inbox event 404 not found"):
            calls[action]()


class TestQueries:
    def test_pending_count(self, store: Store) -> None:
        """pending_count counts pending and processing events, not done or dead ones."""
        done = add(store, "d-1", ticket="1")
        dead = add(store, "d-2", ticket="2")
        add(store, "d-3", ticket="3")
        add(store, "d-4", ticket="4", at=NOW + timedelta(hours=1))
        for _ in range(3):
            claim(store)
        store.complete_event(done)
        store.dead_event(dead, "x")

        assert store.pending_count() == 2

    def test_oldest_pending(self, store: Store) -> None:
        """oldest_pending_received_at is the arrival of the oldest unfinished event."""
        assert store.oldest_pending_received_at() is None
        first = add(store, "d-1", ticket="1", at=NOW)
        add(store, "d-2", ticket="2", at=NOW + timedelta(seconds=5))

        assert store.oldest_pending_received_at() == NOW
        claim(store)
        store.complete_event(first)

        oldest = store.oldest_pending_received_at()
        assert oldest == NOW + timedelta(seconds=5)
        assert oldest is not None
        assert oldest.tzinfo is UTC

    def test_list_events(self, store: Store) -> None:
        """list_events returns events in arrival order, filtered by status and limited."""
        first = add(store, "d-1", ticket="1")
        second = add(store, "d-2", ticket="2")
        third = add(store, "d-3", ticket="3")
        claim(store)
        store.dead_event(first, "x")

        assert [event.id for event in store.list_events()] == [first, second, third]
        assert [event.id for event in store.list_events(status="dead")] == [first]
        assert [event.id for event in store.list_events(status="pending", limit=1)] == [second]

    def test_get_missing_event(self, store: Store) -> None:
        """get_event returns None for an unknown id."""
        assert store.get_event(404) is None


def _set_status(store: Store, event_id: int, status: str, **values: Any) -> None:
    """Set an event's status and other columns directly, as no store method would."""
    statement = update(InboxEvent).where(InboxEvent.id == event_id)
    with store._engine.begin() as connection:
        connection.execute(statement.values(status=status, **values))


def _run_together(targets: list[Callable[[], None]]) -> None:
    """Run the targets in threads that start at the same moment, and fail on any error."""
    barrier = threading.Barrier(len(targets))
    errors: list[BaseException] = []

    def run(target: Callable[[], None]) -> None:
        try:
            barrier.wait(timeout=5)
            target()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(target,)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
