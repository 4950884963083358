"""One SLA clock: elapsed time, pauses, stops, retargeting and thresholds."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from tierbridge.core.sla import clock
from tierbridge.core.sla.calendar import BusinessCalendar
from tierbridge.core.store.sla_rows import ClockRow

START = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)  # a Monday
HOURS_24_7 = BusinessCalendar.preset("24/7")
OFFICE = BusinessCalendar.preset("8/5")


def running(target_hours: float | None = 4) -> ClockRow:
    row = ClockRow(
        connector="l1",
        ticket_id="t-1",
        kind="resolution",
        link_id=1,
        tier="L1",
        calendar="24/7",
        started_at=START,
        running_since=START,
        target_seconds=target_hours * 3600 if target_hours else None,
    )
    return replace(row, due_at=clock.threshold_at(row, HOURS_24_7, 100))


def at(hours: float) -> datetime:
    return START + timedelta(hours=hours)


class TestRunning:
    def test_elapsed_and_percent(self) -> None:
        """A running clock counts the business time since it started."""
        row = running()

        assert clock.elapsed(row, HOURS_24_7, at(1)) == 3600
        assert clock.percent_elapsed(row, HOURS_24_7, at(1)) == 25.0

    def test_threshold_at(self) -> None:
        """A threshold falls at its share of the target after the start."""
        row = running()

        assert clock.threshold_at(row, HOURS_24_7, 75) == at(3)
        assert row.due_at == at(4)

    def test_no_target(self) -> None:
        """A clock without a target measures time but has no percent and no deadline."""
        row = running(None)

        assert clock.percent_elapsed(row, HOURS_24_7, at(1)) is None
        assert clock.threshold_at(row, HOURS_24_7, 100) is None


class TestPause:
    def test_pause_keeps_elapsed(self) -> None:
        """A paused clock keeps the time counted so far and has no deadline."""
        paused = clock.pause(running(), HOURS_24_7, at(1))

        assert paused.elapsed_seconds == 3600
        assert paused.running_since is None
        assert paused.due_at is None
        assert clock.elapsed(paused, HOURS_24_7, at(10)) == 3600

    def test_resume_moves_deadline(self) -> None:
        """After a 2 h pause the deadline is 2 h later."""
        paused = clock.pause(running(), HOURS_24_7, at(1))

        resumed = clock.restart(paused, HOURS_24_7, at(3))

        assert resumed.running_since == at(3)
        assert resumed.due_at == at(6)

    def test_pause_twice(self) -> None:
        """Pausing a paused clock changes nothing."""
        paused = clock.pause(running(), HOURS_24_7, at(1))

        assert clock.pause(paused, HOURS_24_7, at(2)) == paused


class TestStop:
    def test_stop_in_time(self) -> None:
        """A clock stopped before its deadline records no breach."""
        stopped = clock.stop(running(), HOURS_24_7, at(3))

        assert stopped.stopped_at == at(3)
        assert stopped.elapsed_seconds == 3 * 3600
        assert stopped.breached_at is None

    def test_stop_late_records_breach(self) -> None:
        """A clock stopped after its deadline records the deadline as the breach time."""
        stopped = clock.stop(running(), HOURS_24_7, at(5))

        assert stopped.breached_at == at(4)

    def test_restart_after_stop(self) -> None:
        """A reopened clock counts on from the time it had."""
        stopped = clock.stop(running(), HOURS_24_7, at(1))

        reopened = clock.restart(stopped, HOURS_24_7, at(10))

        assert reopened.stopped_at is None
        assert reopened.due_at == at(13)


class TestRetarget:
    def test_shorter_target(self) -> None:
        """A raised priority with a shorter target pulls the deadline in."""
        row = running()

        retargeted = clock.retarget(row, HOURS_24_7, 2 * 3600, "P1")

        assert retargeted.due_at == at(2)
        assert retargeted.priority == "P1"

    def test_paused_clock_has_no_deadline(self) -> None:
        """Retargeting a paused clock keeps it without a deadline."""
        paused = clock.pause(running(), HOURS_24_7, at(1))

        assert clock.retarget(paused, HOURS_24_7, 3600, "P1").due_at is None


def test_business_calendar_deadline() -> None:
    """On an 8/5 calendar in UTC a 4 h target from 15:00 Monday ends 11:00 Tuesday."""
    row = replace(running(), calendar="8/5", started_at=at(6), running_since=at(6))

    assert clock.threshold_at(row, OFFICE, 100) == datetime(2030, 1, 8, 11, 0, tzinfo=UTC)
