"""One SLA clock: start, pause, resume, stop, and where its deadline falls.

The functions take a `ClockRow` and return a new one; nothing here reads the time or the
store. Elapsed time is business time of the clock's calendar, so a pause or a weekend adds
nothing, and the deadline is found with `BusinessCalendar.add`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from tierbridge.core.sla.calendar import BusinessCalendar
from tierbridge.core.store.sla_rows import ClockRow

__all__ = [
    "BREACH_TOLERANCE_SECONDS",
    "elapsed",
    "pause",
    "percent_elapsed",
    "restart",
    "retarget",
    "stop",
    "threshold_at",
]

#: A clock counts as having reached a threshold this close before it, so a timer that fires
#: on time never misses its own threshold by a rounding error.
BREACH_TOLERANCE_SECONDS = 1.0


def elapsed(clock: ClockRow, calendar: BusinessCalendar, now: datetime) -> float:
    """Return the business seconds counted by the clock up to `now`."""
    if clock.running_since is None:
        return clock.elapsed_seconds
    return clock.elapsed_seconds + calendar.business_seconds(clock.running_since, now)


def percent_elapsed(clock: ClockRow, calendar: BusinessCalendar, now: datetime) -> float | None:
    """Return the elapsed share of the target in percent, or None for a clock without one."""
    if not clock.target_seconds:
        return None
    return 100.0 * elapsed(clock, calendar, now) / clock.target_seconds


def threshold_at(clock: ClockRow, calendar: BusinessCalendar, percent: float) -> datetime | None:
    """Return when a running clock reaches `percent` of its target, or None.

    None means the clock is paused, stopped or has no target, so it reaches nothing.
    For a threshold the clock had passed before `running_since`, it returns `running_since`.
    """
    if clock.running_since is None or not clock.target_seconds:
        return None
    remaining = clock.target_seconds * percent / 100.0 - clock.elapsed_seconds
    return calendar.add(clock.running_since, max(0.0, remaining))


def pause(clock: ClockRow, calendar: BusinessCalendar, now: datetime) -> ClockRow:
    """Stop counting at `now` until `restart`; a paused or stopped clock is returned as is."""
    if clock.running_since is None:
        return clock
    return replace(
        clock, elapsed_seconds=elapsed(clock, calendar, now), running_since=None, due_at=None
    )


def restart(clock: ClockRow, calendar: BusinessCalendar, now: datetime) -> ClockRow:
    """Count again from `now`, after a pause or after a stop (a reopened ticket)."""
    if clock.running_since is not None:
        return clock
    running = replace(clock, running_since=now, stopped_at=None)
    return replace(running, due_at=threshold_at(running, calendar, 100.0))


def stop(clock: ClockRow, calendar: BusinessCalendar, now: datetime) -> ClockRow:
    """Stop the clock for good at `now`, and record a breach if it ran past its target."""
    if clock.stopped_at is not None:
        return clock
    paused = pause(clock, calendar, now)
    breached_at = paused.breached_at
    if (
        breached_at is None
        and clock.due_at is not None
        and paused.target_seconds
        and paused.elapsed_seconds > paused.target_seconds
    ):
        breached_at = clock.due_at
    return replace(paused, stopped_at=now, breached_at=breached_at)


def retarget(
    clock: ClockRow,
    calendar: BusinessCalendar,
    target_seconds: float | None,
    priority: str | None,
) -> ClockRow:
    """Give the clock a new target (the priority changed); elapsed time is kept."""
    changed = replace(clock, target_seconds=target_seconds, priority=priority)
    if changed.running_since is None:
        return changed
    return replace(changed, due_at=threshold_at(changed, calendar, 100.0))
