"""SLA tracking, tier moves, rule states and timers (the tables of revision 0002)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, select, update

from tierbridge.core.store._base import StoreBase, to_row
from tierbridge.core.store.rows import RefRow
from tierbridge.core.store.sla_rows import (
    ActivityRow,
    ClockRow,
    RuleStateRow,
    TierMoveRow,
    TimerRow,
)
from tierbridge.core.store.sla_tables import RuleState, SlaClock, SlaTimer, TicketActivity, TierMove
from tierbridge.core.store.tables import Ref, utcnow

__all__ = ["SlaStore"]

_TICKET_KEY = ("connector", "ticket_id")


class SlaStore(StoreBase):
    """The state the SLA tracker and the rules engine keep between events."""

    # -- activity and clocks ------------------------------------------------------------

    def get_activity(self, connector: str, ticket_id: str) -> ActivityRow | None:
        """Return what the tracker last saw of a ticket, or None before its first event."""
        with self._read() as session:
            row = session.get(TicketActivity, (connector, ticket_id))
            return to_row(ActivityRow, row) if row is not None else None

    def get_clocks(self, connector: str, ticket_id: str) -> dict[str, ClockRow]:
        """Return a ticket's clocks by kind (response, resolution)."""
        query = select(SlaClock).where(
            SlaClock.connector == connector, SlaClock.ticket_id == ticket_id
        )
        with self._read() as session:
            return {clock.kind: to_row(ClockRow, clock) for clock in session.scalars(query)}

    def save_tracking(self, activity: ActivityRow, clocks: Iterable[ClockRow]) -> None:
        """Insert or replace a ticket's activity row and clocks in one transaction."""
        with self._write() as session:
            session.execute(self._upsert(TicketActivity, _fields(activity), _TICKET_KEY))
            for clock in clocks:
                session.execute(self._upsert(SlaClock, _fields(clock), (*_TICKET_KEY, "kind")))

    def record_breach(self, connector: str, ticket_id: str, kind: str, at: datetime) -> None:
        """Set a clock's breach time, unless it already has one."""
        statement = (
            update(SlaClock)
            .where(
                SlaClock.connector == connector,
                SlaClock.ticket_id == ticket_id,
                SlaClock.kind == kind,
                SlaClock.breached_at.is_(None),
            )
            .values(breached_at=at)
        )
        with self._write() as session:
            session.execute(statement)

    def list_activity(self) -> list[ActivityRow]:
        """Return every tracked ticket, for reports."""
        with self._read() as session:
            query = select(TicketActivity).order_by(TicketActivity.opened_at)
            return [to_row(ActivityRow, row) for row in session.scalars(query)]

    def list_clocks(self) -> list[ClockRow]:
        """Return every clock, for reports."""
        with self._read() as session:
            query = select(SlaClock).order_by(SlaClock.started_at)
            return [to_row(ClockRow, row) for row in session.scalars(query)]

    def list_refs(self) -> list[RefRow]:
        """Return every ref of every link, oldest first, for reports."""
        with self._read() as session:
            return [to_row(RefRow, ref) for ref in session.scalars(select(Ref).order_by(Ref.id))]

    # -- tier moves ---------------------------------------------------------------------

    def add_move(
        self,
        link_id: int,
        at: datetime,
        kind: str,
        from_tier: str,
        to_tier: str,
        *,
        rule: str | None,
        connector: str,
        ticket_id: str,
    ) -> TierMoveRow:
        """Record that a link moved from one tier to another (`kind` escalate or return)."""
        move = TierMove(
            link_id=link_id,
            at=at,
            kind=kind,
            from_tier=from_tier,
            to_tier=to_tier,
            rule=rule,
            connector=connector,
            ticket_id=ticket_id,
        )
        with self._write() as session:
            session.add(move)
            session.flush()
            return to_row(TierMoveRow, move)

    def moves_of_link(self, link_id: int) -> list[TierMoveRow]:
        """Return a link's tier moves, oldest first."""
        query = select(TierMove).where(TierMove.link_id == link_id).order_by(TierMove.id)
        with self._read() as session:
            return [to_row(TierMoveRow, move) for move in session.scalars(query)]

    def list_moves(self) -> list[TierMoveRow]:
        """Return every tier move, oldest first, for reports."""
        with self._read() as session:
            query = select(TierMove).order_by(TierMove.id)
            return [to_row(TierMoveRow, move) for move in session.scalars(query)]

    # -- rule states --------------------------------------------------------------------

    def rule_states(self, connector: str, ticket_id: str) -> dict[str, RuleStateRow]:
        """Return the rules' last verdicts on a ticket, by rule name."""
        query = select(RuleState).where(
            RuleState.connector == connector, RuleState.ticket_id == ticket_id
        )
        with self._read() as session:
            return {state.rule: to_row(RuleStateRow, state) for state in session.scalars(query)}

    def save_rule_states(self, states: Iterable[RuleStateRow]) -> None:
        """Insert or replace rule verdicts in one transaction."""
        rows = [_fields(state) for state in states]
        if not rows:
            return
        with self._write() as session:
            for row in rows:
                session.execute(self._upsert(RuleState, row, (*_TICKET_KEY, "rule")))

    def _upsert(self, table: Any, values: dict[str, Any], key: tuple[str, ...]) -> Any:
        """Build an INSERT that replaces the row with the same `key` columns."""
        statement = self._insert(table).values(values)
        changes = {name: statement.excluded[name] for name in values if name not in key}
        return statement.on_conflict_do_update(index_elements=list(key), set_=changes)

    # -- timers -------------------------------------------------------------------------

    def replace_timers(
        self, connector: str, ticket_id: str, link_id: int, wanted: Mapping[str, datetime]
    ) -> tuple[list[TimerRow], list[int]]:
        """Make `wanted` (name to due time) the ticket's pending timers.

        A wanted timer is inserted, or set pending again at its new time (also after it
        fired, so a threshold reached again fires again). Pending timers not wanted are
        canceled. Returns the timers armed or moved, and the ids of those canceled.
        """
        query = select(SlaTimer).where(
            SlaTimer.connector == connector, SlaTimer.ticket_id == ticket_id
        )
        armed: list[SlaTimer] = []
        canceled: list[int] = []
        with self._write() as session:
            existing = {timer.name: timer for timer in session.scalars(query)}
            for name, old in existing.items():
                if old.status == "pending" and name not in wanted:
                    old.status, old.updated_at = "canceled", utcnow()
                    canceled.append(old.id)
            for name, due_at in wanted.items():
                found = existing.get(name)
                if found is not None and found.status == "pending" and found.due_at == due_at:
                    continue
                timer = found or SlaTimer(
                    connector=connector, ticket_id=ticket_id, link_id=link_id, name=name
                )
                if found is None:
                    session.add(timer)
                timer.due_at, timer.status, timer.fired_at = due_at, "pending", None
                timer.last_error, timer.updated_at = None, utcnow()
                armed.append(timer)
            session.flush()
            return [to_row(TimerRow, timer) for timer in armed], canceled

    def get_timer(self, timer_id: int) -> TimerRow | None:
        """Return a timer, or None if there is no timer with that id."""
        with self._read() as session:
            timer = session.get(SlaTimer, timer_id)
            return to_row(TimerRow, timer) if timer is not None else None

    def pending_timers(self) -> list[TimerRow]:
        """Return every pending timer, soonest first."""
        query = select(SlaTimer).where(SlaTimer.status == "pending").order_by(SlaTimer.due_at)
        with self._read() as session:
            return [to_row(TimerRow, timer) for timer in session.scalars(query)]

    def timers_of(self, connector: str, ticket_id: str) -> list[TimerRow]:
        """Return a ticket's timers in every status, by name."""
        query = (
            select(SlaTimer)
            .where(SlaTimer.connector == connector, SlaTimer.ticket_id == ticket_id)
            .order_by(SlaTimer.name)
        )
        with self._read() as session:
            return [to_row(TimerRow, timer) for timer in session.scalars(query)]

    def fire_timer_row(self, timer_id: int, due_at: datetime, now: datetime) -> bool:
        """Mark a pending timer fired, unless it was re-armed to another time or canceled.

        Returns whether this call fired it, so two runners never both act on one timer.
        """
        statement = (
            update(SlaTimer)
            .where(SlaTimer.id == timer_id, SlaTimer.status == "pending", SlaTimer.due_at == due_at)
            .values(status="fired", fired_at=now, updated_at=utcnow())
        )
        with self._write() as session:
            result = cast(CursorResult[Any], session.execute(statement))
            return result.rowcount == 1


def _fields(row: object) -> dict[str, Any]:
    return dict(vars(row))
