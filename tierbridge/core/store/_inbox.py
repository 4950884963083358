"""The inbox: received events, deduplicated, claimed one at a time in per-ticket order."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Select, and_, case, exists, func, or_, select, update
from sqlalchemy.orm import aliased

from tierbridge.core.errors import StoreError
from tierbridge.core.store._base import StoreBase, to_row
from tierbridge.core.store.rows import InboxRow
from tierbridge.core.store.tables import InboxEvent, Ref, SyncLog, utcnow

__all__ = ["InboxStore"]

#: Statuses of events that still have to run. Done and dead are final.
UNFINISHED = ("pending", "processing", "failed")

#: Statuses in which an event waits for its `available_at`. This store sets `pending` on a
#: retry and never `failed`, which is claimable only so that rows set by hand still run.
_WAITING = ("pending", "failed")


def _claimable(now: datetime) -> Select[InboxEvent]:
    """Build the query for the oldest event that may run now without breaking ticket order."""
    event = InboxEvent
    other = aliased(InboxEvent)
    same_ticket = and_(other.connector == event.connector, other.ticket_id == event.ticket_id)

    ready = or_(
        and_(event.status.in_(_WAITING), event.available_at <= now),
        and_(event.status == "processing", event.lease_until <= now),
    )
    older_unfinished = exists().where(
        same_ticket, other.id < event.id, other.status.in_(UNFINISHED)
    )
    running = exists().where(
        same_ticket, other.id != event.id, other.status == "processing", other.lease_until > now
    )
    return select(event).where(ready, ~older_unfinished, ~running).order_by(event.id).limit(1)


class InboxStore(StoreBase):
    """Durable queue of change events between intake and the engine."""

    def add_event(
        self,
        connector: str,
        delivery_id: str,
        ticket_id: str,
        kind: str,
        version: str | None,
        payload: Mapping[str, Any],
        now: datetime,
    ) -> int | None:
        """Store a received event and return its id, or None if the delivery is already stored.

        The unique (connector, delivery_id) pair and ON CONFLICT DO NOTHING make a redelivery
        a no-op, also when two threads or processes store it at the same moment.
        """
        values = {
            "connector": connector,
            "delivery_id": delivery_id,
            "ticket_id": ticket_id,
            "kind": kind,
            "version": version,
            "payload": dict(payload),
            "received_at": now,
            "available_at": now,
            "status": "pending",
            "attempts": 0,
        }
        statement = self._insert(InboxEvent).values(values)
        statement = statement.on_conflict_do_nothing(index_elements=["connector", "delivery_id"])
        with self._write() as session:
            new_id: int | None = session.scalar(statement.returning(InboxEvent.id))
            return new_id

    def claim_event(
        self,
        now: datetime,
        lease_seconds: float,
        *,
        connector: str | None = None,
        ticket_id: str | None = None,
        connectors: Collection[str] | None = None,
    ) -> InboxRow | None:
        """Lease the oldest event that may run now, or return None if none may.

        With `connectors`, only events of those connectors are claimed; the embedded runner
        gives each tenant its own workers this way.

        With `connector` and `ticket_id`, only an event of that ticket is claimed; the
        procrastinate runner runs one job per ticket this way.

        An event may run when it is pending and due, or processing with an expired lease
        (its worker died). It may not run while an older event of the same ticket is
        unfinished or another event of that ticket holds a live lease, so each ticket's
        events run one at a time in arrival order. The claim counts an attempt.

        Two claimers never get the same event: PostgreSQL skips rows another transaction
        has locked (FOR UPDATE SKIP LOCKED), and SQLite runs one write transaction at a time.
        """
        query = _claimable(now)
        if connector is not None and ticket_id is not None:
            query = query.where(
                InboxEvent.connector == connector, InboxEvent.ticket_id == ticket_id
            )
        if connectors is not None:
            query = query.where(InboxEvent.connector.in_(list(connectors)))
        if self.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True, of=InboxEvent)

        with self._write() as session:
            event = session.scalar(query)
            if event is None:
                return None
            event.status = "processing"
            event.lease_until = now + timedelta(seconds=lease_seconds)
            event.attempts += 1
            session.flush()
            return to_row(InboxRow, event)

    def complete_event(self, event_id: int, *, now: datetime | None = None) -> None:
        """Mark an event done at `now`, or at the current time if `now` is None."""
        self._set_event(event_id, status="done", lease_until=None, finished_at=now or utcnow())

    def retry_event(self, event_id: int, error: str, available_at: datetime) -> None:
        """Return an event to pending with its error, to be claimed again from `available_at`."""
        self._set_event(
            event_id,
            status="pending",
            last_error=error,
            available_at=available_at,
            lease_until=None,
        )

    def dead_event(self, event_id: int, error: str, *, now: datetime | None = None) -> None:
        """Move an event to the dead-letter state. No claim returns it again."""
        self._set_event(
            event_id,
            status="dead",
            last_error=error,
            lease_until=None,
            finished_at=now or utcnow(),
        )

    def release_event(self, event_id: int) -> None:
        """Return a claimed event to pending and take back its attempt (used at shutdown).

        An event that is no longer processing (it finished meanwhile) is left as it is.
        """
        statement = (
            update(InboxEvent)
            .where(InboxEvent.id == event_id, InboxEvent.status == "processing")
            .values(
                status="pending",
                lease_until=None,
                attempts=case((InboxEvent.attempts > 0, InboxEvent.attempts - 1), else_=0),
            )
        )
        with self._write() as session:
            session.execute(statement)

    def _set_event(self, event_id: int, **values: Any) -> None:
        statement = update(InboxEvent).where(InboxEvent.id == event_id).values(**values)
        with self._write() as session:
            result = cast(CursorResult[Any], session.execute(statement))
            if result.rowcount == 0:
                msg = f"inbox event {event_id} not found"
                raise StoreError(msg)

    def pending_count(self) -> int:
        """Count the events not yet finished: pending (due or not), processing and failed."""
        query = select(func.count()).select_from(InboxEvent)
        query = query.where(InboxEvent.status.in_(UNFINISHED))
        with self._read() as session:
            return int(session.scalar(query) or 0)

    def has_unfinished_events(self, connector: str, ticket_id: str) -> bool:
        """Say whether a ticket has events waiting or running: changes not yet synced."""
        query = select(func.count()).select_from(InboxEvent)
        query = query.where(
            InboxEvent.connector == connector,
            InboxEvent.ticket_id == ticket_id,
            InboxEvent.status.in_(UNFINISHED),
        )
        with self._read() as session:
            return int(session.scalar(query) or 0) > 0

    def oldest_pending_received_at(self) -> datetime | None:
        """Return when the oldest unfinished event arrived, or None if all are finished."""
        query = select(func.min(InboxEvent.received_at))
        query = query.where(InboxEvent.status.in_(UNFINISHED))
        with self._read() as session:
            oldest: datetime | None = session.scalar(query)
            return oldest

    def list_events(self, status: str | None = None, limit: int = 100) -> list[InboxRow]:
        """Return up to `limit` events in arrival order, only those in `status` if given."""
        query = select(InboxEvent).order_by(InboxEvent.id).limit(limit)
        if status is not None:
            query = query.where(InboxEvent.status == status)
        with self._read() as session:
            return [to_row(InboxRow, event) for event in session.scalars(query)]

    def get_event(self, event_id: int) -> InboxRow | None:
        """Return one event, or None if no event has that id."""
        with self._read() as session:
            event = session.get(InboxEvent, event_id)
            return to_row(InboxRow, event) if event is not None else None

    # -- dead-letter queue --------------------------------------------------------------

    def requeue_dead_events(self, now: datetime, event_id: int | None = None) -> list[int]:
        """Return dead events to pending, due at `now` with no attempts; return their ids.

        Only the event `event_id` is requeued when it is given, and only if it is dead. The
        last error stays on the row until the next outcome replaces it.
        """
        statement = (
            update(InboxEvent)
            .where(InboxEvent.status == "dead")
            .values(
                status="pending",
                attempts=0,
                available_at=now,
                lease_until=None,
                finished_at=None,
            )
            .returning(InboxEvent.id)
        )
        if event_id is not None:
            statement = statement.where(InboxEvent.id == event_id)
        with self._write() as session:
            return sorted(session.scalars(statement))

    def drop_dead_event(self, event_id: int, now: datetime) -> InboxRow | None:
        """Delete a dead event and log a `dropped` sync log row for it, in one transaction.

        The sync log row keeps the audit trail: the event id, ticket, attempts, delivery id
        and last error. The payload is not kept. Returns the deleted event, or None if no
        dead event has that id.
        """
        with self._write() as session:
            event = session.get(InboxEvent, event_id)
            if event is None or event.status != "dead":
                return None
            dropped = to_row(InboxRow, event)
            link_id = session.scalar(
                select(Ref.link_id).where(
                    Ref.connector == event.connector, Ref.ticket_id == event.ticket_id
                )
            )
            session.add(
                SyncLog(
                    at=now,
                    event_id=event.id,
                    link_id=link_id,
                    connector=event.connector,
                    ticket_id=event.ticket_id,
                    action="dropped",
                    fields=[],
                    outcome="skipped",
                    attempt=event.attempts,
                    error=event.last_error,
                    detail=f"dead {event.kind} event, delivery {event.delivery_id}, dropped by an operator",
                )
            )
            session.delete(event)
            return dropped
