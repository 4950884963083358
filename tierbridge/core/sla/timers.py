"""Timers: the moments at which a ticket's rules must run again with no change to it.

A rule on an SLA threshold (`resolution: 75%`, `response: breached`) or on an age
(`age: {min: 4h}`) can start to hold while nobody touches the ticket. After each event the
tracker arms one timer per such moment still ahead (`arm_timers`); the store keeps them,
so a restarted runner arms them again and none is lost.

`fire_timer(runtime, timer_id)` is the unit of work a runner calls at the due time. It
records a breach for a 100 % timer and queues an inbox event for the ticket, which a
worker handles like any other event: the rules run in the ticket's event order, with
the engine's retries, and a rule that now holds fires.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import structlog

from tierbridge.core.escalation import effective_rules
from tierbridge.core.model import Status, Tier
from tierbridge.core.rules.conditions import TimeTriggers, time_triggers
from tierbridge.core.sla.clock import BREACH_TOLERANCE_SECONDS, elapsed, threshold_at
from tierbridge.core.sla.policy import SlaPolicy

if TYPE_CHECKING:
    from tierbridge.core.runtime import Runtime
    from tierbridge.core.store import RefRow, Store
    from tierbridge.core.store.sla_rows import ActivityRow, ClockRow, TimerRow

__all__ = ["TimerListener", "arm_timers", "fire_timer", "subscribe", "wanted_timers"]

_log = structlog.get_logger(__name__)

#: Called with the timers armed or moved and the ids of the timers canceled.
TimerListener = Callable[[list["TimerRow"], list[int]], None]

_listeners: dict[int, list[TimerListener]] = {}
_listeners_lock = threading.Lock()


def subscribe(store: Store, listener: TimerListener) -> Callable[[], None]:
    """Call `listener` whenever this process arms or cancels timers in `store`.

    A runner subscribes to schedule each new timer at once. Returns the function that
    unsubscribes. Timers armed by another process reach a runner only when it reloads
    the pending timers from the store.
    """
    with _listeners_lock:
        _listeners.setdefault(id(store), []).append(listener)

    def unsubscribe() -> None:
        with _listeners_lock:
            remaining = [item for item in _listeners.get(id(store), []) if item is not listener]
            if remaining:
                _listeners[id(store)] = remaining
            else:
                _listeners.pop(id(store), None)

    return unsubscribe


def wanted_timers(
    activity: ActivityRow,
    clocks: Mapping[str, ClockRow],
    triggers: TimeTriggers,
    policy: SlaPolicy,
    now: datetime,
) -> dict[str, datetime]:
    """Return the timers a ticket needs after `now`, by name: thresholds its running clocks
    have not reached yet, and ages it has not reached while open."""
    tier = Tier(activity.tier)
    wanted: dict[str, datetime] = {}
    for kind, clock in clocks.items():
        if clock.running_since is None or not clock.target_seconds:
            continue
        calendar = policy.calendar(clock.calendar, tier)
        counted = elapsed(clock, calendar, now) + BREACH_TOLERANCE_SECONDS
        for percent in sorted(triggers.percents.get(kind, ())):
            if counted < clock.target_seconds * percent / 100.0:
                due = threshold_at(clock, calendar, percent)
                if due is not None:
                    wanted[f"{kind}:{percent:g}"] = due

    final = activity.status is not None and Status(activity.status).is_final
    for age in sorted(triggers.ages):
        due = activity.opened_at + timedelta(seconds=age)
        if not final and due > now:
            wanted[f"age:{age:.0f}"] = due
    return wanted


def arm_timers(
    rt: Runtime,
    ref: RefRow,
    activity: ActivityRow,
    clocks: Mapping[str, ClockRow],
    now: datetime,
    previous: Mapping[str, ClockRow] | None = None,
) -> list[TimerRow]:
    """Store the ticket's wanted timers, cancel the others, and tell the subscribers.

    With `previous`, the clocks before this observation, a ticket whose clocks never had a
    target and whose rules test no age cannot have timers, and the store is not asked.
    """
    triggers = time_triggers(effective_rules(rt.config))
    if previous is not None and not triggers.ages:
        targets = [clock.target_seconds for clock in (*clocks.values(), *previous.values())]
        if not any(targets):
            return []
    wanted = wanted_timers(activity, clocks, triggers, SlaPolicy.from_config(rt.config), now)
    armed, canceled = rt.store.replace_timers(ref.connector, ref.ticket_id, ref.link_id, wanted)
    if armed or canceled:
        _announce(rt.store, armed, canceled)
    return armed


def fire_timer(rt: Runtime, timer_id: int) -> bool:
    """Queue a rules evaluation for the timer's ticket if the timer is due; return whether it fired.

    A timer that is no longer pending (fired, canceled) or not yet due at `rt.clock()`
    is left alone, so calling this early or twice does no harm.
    """
    timer = rt.store.get_timer(timer_id)
    if timer is None or timer.status != "pending":
        return False
    now = rt.clock()
    if timer.due_at > now + timedelta(seconds=BREACH_TOLERANCE_SECONDS):
        return False

    kind, _, percent = timer.name.partition(":")
    if kind in ("response", "resolution") and float(percent) >= 100.0:
        rt.store.record_breach(timer.connector, timer.ticket_id, kind, timer.due_at)
    delivery = f"timer:{timer.id}:{timer.due_at.isoformat()}"
    payload = {"timer": timer.name, "due_at": timer.due_at.isoformat()}
    rt.store.add_event(timer.connector, delivery, timer.ticket_id, "timer", None, payload, now)
    fired = rt.store.fire_timer_row(timer.id, timer.due_at, now)
    _log.info(
        "timer_fired",
        timer_id=timer.id,
        timer=timer.name,
        connector=timer.connector,
        ticket=timer.ticket_id,
        late_ms=round((now - timer.due_at).total_seconds() * 1000),
    )
    return fired


def _announce(store: Store, armed: list[TimerRow], canceled: list[int]) -> None:
    with _listeners_lock:
        listeners = list(_listeners.get(id(store), []))
    for listener in listeners:
        try:
            listener(armed, canceled)
        except Exception as exc:  # a runner's bug must not fail the event that armed the timer
            _log.warning("timer_listener_failed", error=repr(exc))
