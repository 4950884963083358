"""Move a ticket's SLA clocks and counters forward from one observation to the next.

Each event of a ticket is an observation of its canonical state. From the previous
observation (the activity row) and the new state, `advance` works out what happened
(acknowledged, paused, resumed, resolved, reopened, reassigned, priority changed) and
sets each clock to the state the ticket now calls for:

| clock      | stops for good when                      | pauses when                  |
| ---------- | ---------------------------------------- | ---------------------------- |
| response   | the tier acknowledges, or at the first final status | in a pause status (pending) |
| resolution | in a final status; a reopen restarts it  | in a pause status            |

Otherwise a clock runs. A tier acknowledges a ticket when someone there moves it out of
`new` or assigns it. A status or assignee that tierbridge wrote itself (another tier's
status, synced) is no acknowledgement, so `track_ticket` passes the fields that changed
since the last sync. A reopened ticket's resolution clock counts on from the time it had.
`advance` reads neither the store nor the time; `track_ticket` does both.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from tierbridge.core.engine.fields import changed_fields
from tierbridge.core.model import Priority, Status, Ticket, Tier
from tierbridge.core.sla import clock as clocks_
from tierbridge.core.sla.calendar import BusinessCalendar
from tierbridge.core.sla.policy import SlaPolicy
from tierbridge.core.sla.settings import CLOCK_KINDS, ClockKind
from tierbridge.core.sla.timers import arm_timers
from tierbridge.core.store.rows import RefRow
from tierbridge.core.store.sla_rows import ActivityRow, ClockRow

if TYPE_CHECKING:
    from tierbridge.core.runtime import Runtime

__all__ = ["Tracking", "advance", "observed_at", "track_ticket"]

ClockState = Literal["running", "paused", "stopped"]


@dataclass(frozen=True)
class Tracking:
    """A ticket's activity and clocks after one observation."""

    activity: ActivityRow
    clocks: dict[str, ClockRow]


def observed_at(ticket: Ticket, previous: ActivityRow | None, now: datetime) -> datetime:
    """Return when the observed state took effect: the ticket's own update time if it has
    one, never before the previous observation and never after `now`."""
    moment = min(ticket.updated or now, now)
    if previous is not None and moment < previous.observed_at:
        return previous.observed_at
    return moment


def advance(
    previous: ActivityRow | None,
    clocks: dict[str, ClockRow],
    ticket: Ticket,
    ref: RefRow,
    now: datetime,
    policy: SlaPolicy,
    changed: Collection[str] | None = None,
) -> Tracking:
    """Return the activity and clocks after observing `ticket` at `now`.

    `changed` names the fields someone other than tierbridge changed since the last sync;
    None counts every field as changed by a person.
    """
    activity = _next_activity(previous, ticket, ref, now, changed)
    tier = Tier(ref.tier)
    updated: dict[str, ClockRow] = {}
    for kind in CLOCK_KINDS:
        clock = clocks.get(kind) or _new_clock(kind, activity, tier, policy)
        clock = _retargeted(clock, activity, tier, kind, policy)
        calendar = policy.calendar(clock.calendar, tier)
        clock = _move_to(clock, _wanted_state(clock, activity, policy), calendar, now)
        updated[kind] = _with_breach(clock, now)
    return Tracking(activity, updated)


def _next_activity(
    previous: ActivityRow | None,
    ticket: Ticket,
    ref: RefRow,
    now: datetime,
    changed: Collection[str] | None,
) -> ActivityRow:
    if previous is None:
        opened = ticket.created if ticket.created is not None and ticket.created <= now else now
        previous = ActivityRow(
            connector=ref.connector,
            ticket_id=ref.ticket_id,
            link_id=ref.link_id,
            tier=ref.tier,
            opened_at=opened,
            observed_at=now,
            status=Status.NEW.value,
        )
        first = True
    else:
        first = False

    fields = ticket.present_fields()
    status = ticket.status.value if ticket.status is not None else None
    status = status if "status" in fields else previous.status
    priority = ticket.priority.value if ticket.priority is not None else None
    priority = priority if "priority" in fields else previous.priority
    group = ticket.assignment_group if "assignment_group" in fields else previous.assignment_group

    was_final = previous.status is not None and Status(previous.status).is_final
    is_final = status is not None and Status(status).is_final
    acknowledged = previous.acknowledged_at
    if acknowledged is None and _acknowledges(ticket, status, changed):
        acknowledged = now

    reassigned = (
        not first and previous.assignment_group is not None and group != previous.assignment_group
    )
    return replace(
        previous,
        link_id=ref.link_id,
        observed_at=now,
        status=status,
        priority=priority,
        assignment_group=group,
        acknowledged_at=acknowledged,
        resolved_at=(previous.resolved_at or now) if is_final else None,
        reopen_count=previous.reopen_count + (1 if was_final and not is_final else 0),
        reassignment_count=previous.reassignment_count + (1 if reassigned else 0),
    )


def _acknowledges(ticket: Ticket, status: str | None, changed: Collection[str] | None) -> bool:
    """Tell whether a person at this tier took the ticket: started it or assigned it."""
    started = status not in (None, Status.NEW.value) and (changed is None or "status" in changed)
    assigned = bool(ticket.assignee) and (changed is None or "assignee" in changed)
    return started or assigned


def _new_clock(kind: ClockKind, activity: ActivityRow, tier: Tier, policy: SlaPolicy) -> ClockRow:
    name = policy.calendar_name(tier)
    clock = ClockRow(
        connector=activity.connector,
        ticket_id=activity.ticket_id,
        kind=kind,
        link_id=activity.link_id,
        tier=tier.value,
        calendar=name,
        started_at=activity.opened_at,
        running_since=activity.opened_at,
    )
    return _retargeted(clock, activity, tier, kind, policy, force=True)


def _retargeted(
    clock: ClockRow,
    activity: ActivityRow,
    tier: Tier,
    kind: ClockKind,
    policy: SlaPolicy,
    *,
    force: bool = False,
) -> ClockRow:
    """Follow a change of priority, or of the configured target, while the clock counts."""
    priority = Priority(activity.priority) if activity.priority is not None else None
    target = policy.target(tier, priority, kind)
    if not force and (clock.stopped_at is not None or target == clock.target_seconds):
        return replace(clock, priority=activity.priority) if clock.stopped_at is None else clock
    calendar = policy.calendar(clock.calendar, tier)
    return clocks_.retarget(clock, calendar, target, activity.priority)


def _wanted_state(clock: ClockRow, activity: ActivityRow, policy: SlaPolicy) -> ClockState:
    status = Status(activity.status) if activity.status is not None else None
    if status is not None and status.is_final:
        return "stopped"
    if clock.kind == "response" and (
        activity.acknowledged_at is not None or clock.stopped_at is not None
    ):
        return "stopped"
    return "paused" if policy.pauses(status) else "running"


def _state_of(clock: ClockRow) -> ClockState:
    if clock.stopped_at is not None:
        return "stopped"
    return "running" if clock.running_since is not None else "paused"


def _move_to(
    clock: ClockRow, wanted: ClockState, calendar: BusinessCalendar, now: datetime
) -> ClockRow:
    current = _state_of(clock)
    if current == wanted:
        return clock
    if wanted == "stopped":
        return clocks_.stop(clock, calendar, now)
    if wanted == "running":
        return clocks_.restart(clock, calendar, now)
    if current == "stopped":
        return replace(clock, stopped_at=None)
    return clocks_.pause(clock, calendar, now)


def _with_breach(clock: ClockRow, now: datetime) -> ClockRow:
    """Record a breach that happened before `now` while no timer fired for it."""
    if clock.breached_at is not None or clock.due_at is None or clock.due_at > now:
        return clock
    return replace(clock, breached_at=clock.due_at)


def track_ticket(rt: Runtime, ref: RefRow, ticket: Ticket) -> Tracking:
    """Observe `ticket`: move its clocks and counters in the store, then re-arm its timers.

    Call it before the ticket's snapshot is saved, since only a difference from the snapshot
    is a person's change: tierbridge saves the snapshot with each of its own writes.
    """
    previous = rt.store.get_activity(ref.connector, ref.ticket_id)
    clocks = rt.store.get_clocks(ref.connector, ref.ticket_id)
    snapshot = rt.store.get_snapshot(ref.connector, ref.ticket_id)
    changed = changed_fields(ticket, snapshot.data if snapshot is not None else None)
    now = rt.clock()
    policy = SlaPolicy.from_config(rt.config)
    moment = observed_at(ticket, previous, now)
    tracking = advance(previous, clocks, ticket, ref, moment, policy, changed)
    if _changed_state(previous, clocks, tracking):
        rt.store.save_tracking(tracking.activity, tracking.clocks.values())
    arm_timers(rt, ref, tracking.activity, tracking.clocks, now, clocks)
    return tracking


def _changed_state(
    previous: ActivityRow | None, clocks: dict[str, ClockRow], tracking: Tracking
) -> bool:
    """Tell whether an observation changed more than its own time; most echoes change nothing."""
    if previous is None or tracking.clocks != clocks:
        return True
    return replace(tracking.activity, observed_at=previous.observed_at) != previous
