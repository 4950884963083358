"""The inbox: received events, deduplicated, claimed one at a time in per-ticket order."""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Collection, Mapping
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    CursorResult,
    Table,
    Update,
    and_,
    bindparam,
    case,
    exists,
    func,
    literal_column,
    select,
    update,
)
from sqlalchemy.sql.selectable import NamedFromClause

from tierbridge.core.errors import StoreError
from tierbridge.core.store._base import StoreBase, to_row
from tierbridge.core.store.rows import InboxRow
from tierbridge.core.store.tables import InboxEvent, Ref, SyncLog, UtcDateTime, utcnow

__all__ = ["InboxStore"]

#: Statuses of events that still have to run. Done and dead are final.
UNFINISHED = ("pending", "processing", "failed")

#: The status of a leased event, as an SQL literal like those of `_status_in`.
_PROCESSING: ColumnElement[str] = literal_column("'processing'")

#: Oldest SQLite whose UPDATE has RETURNING, which the claim statement needs.
_SQLITE_RETURNING = (3, 35, 0)


def _status_in(column: ColumnElement[str], statuses: Collection[str]) -> ColumnElement[bool]:
    """Test `column IN (...)` with the statuses as SQL literals, not bound parameters.

    The partial indexes of the claim (revision 0005) cover unfinished events only. A planner
    uses such an index only if it can prove the query's filter implies the index's, and
    neither SQLite nor a generic PostgreSQL plan can do that through a parameter.
    """
    return column.in_([literal_column(f"'{status}'") for status in statuses])


def _may_run(
    event: NamedFromClause, now: BindParameter[datetime], dialect: str
) -> ColumnElement[bool]:
    """Test that `event` is unfinished and due: pending or failed and available, or leased
    by a worker whose lease has expired. This store sets `pending` on a retry and never
    `failed`, which is claimable only so that rows set by hand still run.

    The due time is one CASE expression, not an OR of two terms that the index on status
    and available_at could serve. SQLite has no statistics (the store runs no ANALYZE), so
    it would take that index, check the ticket of every due event and sort them all, where
    walking `ix_inbox_unfinished` in id order stops at the first event that may run. The
    plans were checked with EXPLAIN QUERY PLAN on SQLite 3.40.
    """
    unfinished = _status_in(event.c.status, UNFINISHED)
    if dialect == "sqlite":
        # The planner hint that most rows pass makes SQLite prefer the id-ordered walk.
        unfinished = func.likelihood(unfinished, literal_column("0.9"))
    runs_from = case(
        (event.c.status == _PROCESSING, event.c.lease_until), else_=event.c.available_at
    )
    return and_(unfinished, runs_from <= now)


def _ticket_free(
    event: NamedFromClause, other: NamedFromClause, now: BindParameter[datetime]
) -> ColumnElement[bool]:
    """Test that no older event of `event`'s ticket is unfinished and no other one is leased."""
    same_ticket = and_(
        other.c.connector == event.c.connector,
        other.c.ticket_id == event.c.ticket_id,
        _status_in(other.c.status, UNFINISHED),
    )
    older_unfinished = exists().where(same_ticket, other.c.id < event.c.id)
    running = exists().where(
        same_ticket,
        other.c.id != event.c.id,
        other.c.status == _PROCESSING,
        other.c.lease_until > now,
    )
    return and_(~older_unfinished, ~running)


def _connector_in(event: NamedFromClause, dialect: str) -> ColumnElement[bool]:
    """Test that `event` belongs to one of the connectors of the `connectors` parameter."""
    in_connectors: ColumnElement[bool] = event.c.connector.in_(
        bindparam("connectors", expanding=True)
    )
    if dialect == "sqlite":
        # As in `_may_run`: without the hint, SQLite looks the connectors up in the ticket
        # index and sorts all their unfinished events.
        in_connectors = func.likelihood(in_connectors, literal_column("0.9"))
    return in_connectors


@functools.cache
def _claim_statement(dialect: str, *, one_ticket: bool, some_connectors: bool) -> Update:
    """Build the claim as one UPDATE of the oldest event that may run now, RETURNING it.

    Built once per variant, so SQLAlchemy memoizes its cache key and compiled form. Its
    parameters are `now`, `lease_end`, and `only_connector` with `only_ticket_id` or
    `connectors` when the variant filters on them. No parameter has a column's name, since
    SQLAlchemy would add such a parameter to the SET clause.
    """
    inbox = cast(Table, InboxEvent.__table__)
    # Aliases, since a subquery on the UPDATE's own table would be correlated with it.
    event, other = inbox.alias("candidate"), inbox.alias("other")
    now = bindparam("now", type_=UtcDateTime())

    candidate = select(event.c.id).where(
        _may_run(event, now, dialect), _ticket_free(event, other, now)
    )
    if one_ticket:
        candidate = candidate.where(
            event.c.connector == bindparam("only_connector"),
            event.c.ticket_id == bindparam("only_ticket_id"),
        )
    if some_connectors:
        candidate = candidate.where(_connector_in(event, dialect))
    candidate = candidate.order_by(event.c.id).limit(1)
    if dialect == "postgresql":
        candidate = candidate.with_for_update(skip_locked=True, of=event)

    return (
        update(inbox)
        .where(inbox.c.id == candidate.scalar_subquery())
        .values(
            status="processing",
            lease_until=bindparam("lease_end", type_=UtcDateTime()),
            attempts=inbox.c.attempts + 1,
        )
        .returning(*inbox.c)
    )


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
        The claim is one UPDATE … RETURNING statement (`_claim_statement`), so it needs
        SQLite 3.35 or newer, and older versions raise StoreError.
        """
        if self.dialect == "sqlite" and not self._engine.dialect.update_returning:
            msg = (
                f"SQLite {sqlite3.sqlite_version} has no RETURNING, which claiming an event "
                f"needs; use SQLite {'.'.join(map(str, _SQLITE_RETURNING))} or newer"
            )
            raise StoreError(msg)

        one_ticket = connector is not None and ticket_id is not None
        statement = _claim_statement(
            self.dialect,
            one_ticket=one_ticket,
            some_connectors=connectors is not None,
        )
        params: dict[str, Any] = {"now": now, "lease_end": now + timedelta(seconds=lease_seconds)}
        if one_ticket:
            params.update(only_connector=connector, only_ticket_id=ticket_id)
        if connectors is not None:
            params["connectors"] = list(connectors)

        with self._write() as session:
            row = session.connection().execute(statement, params).mappings().one_or_none()
            return InboxRow(**row) if row is not None else None

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
        """Finish a dead event without running it, and log a `dropped` sync log row for it.

        The sync log row keeps the audit trail: the event id, ticket, attempts, delivery id
        and last error. The event stays in the inbox as done, with its payload emptied, so a
        poll that reads the same version of the ticket again finds its delivery id stored
        and queues nothing. Returns the event as it was, or None if no dead event has that id.
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
            event.status = "done"
            event.payload = {}
            event.lease_until = None
            event.finished_at = now
            return dropped
