"""Timers: armed from the clocks, fired at the business-hours deadline, on a simulated clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.core.rules.memory import Harness
from tierbridge.core.sla.timers import fire_timer, subscribe
from tierbridge.core.store.sla_rows import TimerRow

BRUSSELS = ZoneInfo("Europe/Brussels")
CONFIG = """
calendars:
  office: {hours: 8/5, timezone: Europe/Brussels, holidays: [2030-01-07]}
sla:
  calendar: office
  targets:
    L1: {P3: {response: 1h, resolution: 4h}}
rules:
  - name: resolution-breach
    when: {tier: L1, sla: {resolution: breached}}
    then: [{escalate: L2}]
  - name: three-quarters
    when: {tier: L1, sla: {resolution: 75%}}
    then: [{note: Three quarters of the resolution time are gone.}]
  - name: old-ticket
    when: {tier: L1, age: {min: 30d}}
    then: [{note: Open for a month.}]
"""


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2030, 1, day, hour, minute, tzinfo=BRUSSELS).astimezone(UTC)


#: Friday 4 January 2030, 16:00 in Brussels; Monday 7 January is a holiday.
OPENED = local(4, 16)
#: 4 business hours later: 1 h on Friday, then Tuesday 09:00-12:00.
DEADLINE = local(8, 12)


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    built = Harness.from_yaml(tmp_path, CONFIG, OPENED)
    yield built
    built.close()


def open_ticket(harness: Harness) -> str:
    ticket_id = harness.systems["l1"].open(title="Printer jams", priority="P3", group="Desk")
    harness.settle()
    return ticket_id


def pending(harness: Harness, ticket_id: str) -> dict[str, TimerRow]:
    timers = harness.rt.store.timers_of("l1", ticket_id)
    return {timer.name: timer for timer in timers if timer.status == "pending"}


class TestArming:
    def test_timers_for_thresholds_and_age(self, harness: Harness) -> None:
        """A new ticket gets timers for each SLA threshold the rules test and for the age."""
        ticket_id = open_ticket(harness)

        timers = pending(harness, ticket_id)

        assert set(timers) == {"response:100", "resolution:75", "resolution:100", "age:2592000"}
        assert timers["resolution:100"].due_at == DEADLINE
        assert timers["resolution:75"].due_at == local(8, 11)
        assert timers["response:100"].due_at == local(4, 17)
        assert timers["age:2592000"].due_at == OPENED + timedelta(days=30)

    def test_resolved_ticket_has_no_timers(self, harness: Harness) -> None:
        """Resolving the ticket cancels every pending timer."""
        ticket_id = open_ticket(harness)

        harness.systems["l1"].edit(ticket_id, status="resolved", close_notes="Fixed.")
        harness.settle()

        assert pending(harness, ticket_id) == {}

    def test_listener_told(self, harness: Harness) -> None:
        """Subscribers hear about armed and canceled timers of their store."""
        seen: list[tuple[list[str], list[int]]] = []
        unsubscribe = subscribe(
            harness.rt.store,
            lambda armed, canceled: seen.append(([t.name for t in armed], canceled)),
        )
        try:
            ticket_id = open_ticket(harness)
            harness.systems["l1"].edit(ticket_id, status="resolved", close_notes="Fixed.")
            harness.settle()
        finally:
            unsubscribe()

        assert "resolution:100" in seen[0][0]
        assert len(seen[-1][1]) == 4


class TestDeadline:
    def test_escalates_at_business_deadline(self, harness: Harness) -> None:
        """Across a weekend and a holiday, the breach escalates at Tuesday 12:00, not before."""
        ticket_id = open_ticket(harness)
        timer = pending(harness, ticket_id)["resolution:100"]

        harness.clock.set(DEADLINE - timedelta(minutes=1))
        early = fire_timer(harness.rt, timer.id)
        harness.clock.set(DEADLINE)
        fired = fire_timer(harness.rt, timer.id)
        harness.settle()

        assert early is False
        assert fired is True
        assert len(harness.systems["l2"].records) == 1
        fired_rows = [r for r in harness.rt.store.sync_log(limit=100) if r.action == "rule_fired"]
        assert [row.at for row in fired_rows] == [DEADLINE]
        assert "resolution-breach" in (fired_rows[0].detail or "")
        assert harness.rt.store.get_clocks("l1", ticket_id)["resolution"].breached_at == DEADLINE

    def test_fire_twice_does_nothing(self, harness: Harness) -> None:
        """A timer fires once; a second call finds it fired and queues nothing."""
        ticket_id = open_ticket(harness)
        timer = pending(harness, ticket_id)["resolution:100"]
        harness.clock.set(DEADLINE)

        first = fire_timer(harness.rt, timer.id)
        second = fire_timer(harness.rt, timer.id)

        assert first is True
        assert second is False
        assert harness.rt.store.pending_count() == 1

    def test_threshold_fires_note_only(self, harness: Harness) -> None:
        """At 75 % the note rule fires and the breach rule does not."""
        ticket_id = open_ticket(harness)
        timer = pending(harness, ticket_id)["resolution:75"]

        harness.clock.set(timer.due_at)
        fire_timer(harness.rt, timer.id)
        harness.settle()

        assert harness.systems["l2"].records == {}
        notes = [c.body for c in harness.systems["l1"].records[ticket_id].comments]
        assert notes == ["Three quarters of the resolution time are gone."]


class TestPause:
    def test_pause_and_resume_move_deadline(self, harness: Harness) -> None:
        """Half an hour in, pending until Tuesday 10:00: the breach moves to Tuesday 13:30."""
        ticket_id = open_ticket(harness)
        l1 = harness.systems["l1"]

        harness.clock.set(local(4, 16, 30))
        l1.edit(ticket_id, status="pending")
        harness.settle()
        while_paused = pending(harness, ticket_id)
        harness.clock.set(local(8, 10))
        l1.edit(ticket_id, status="in_progress")
        harness.settle()
        timer = pending(harness, ticket_id)["resolution:100"]
        harness.clock.set(DEADLINE)
        at_old_deadline = fire_timer(harness.rt, timer.id)
        harness.clock.set(timer.due_at)
        fire_timer(harness.rt, timer.id)
        harness.settle()

        assert "resolution:100" not in while_paused
        assert timer.due_at == local(8, 13, 30)
        assert at_old_deadline is False
        assert len(harness.systems["l2"].records) == 1

    def test_canceled_timer_does_not_fire(self, harness: Harness) -> None:
        """A timer canceled by a pause does nothing when its old time comes."""
        ticket_id = open_ticket(harness)
        timer = pending(harness, ticket_id)["resolution:100"]
        harness.systems["l1"].edit(ticket_id, status="pending")
        harness.settle()

        harness.clock.set(DEADLINE)

        assert fire_timer(harness.rt, timer.id) is False
        assert harness.rt.store.get_timer(timer.id).status == "canceled"  # type: ignore[union-attr]
