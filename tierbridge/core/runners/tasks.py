"""The bodies of the procrastinate tasks: the engine's units of work, run as jobs.

Each task takes the worker's `Runtime` from the job context (`additional_context`) and
calls the same function the embedded runner calls. The store stays the source of truth:
a ticket job claims the ticket's events from the inbox with the store's claim order and
lease, so a job run twice, early or late does no harm.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import TYPE_CHECKING

import structlog

from tierbridge.core.engine import handle_event
from tierbridge.core.poller import poll_connector
from tierbridge.core.runners.context import as_utc, runtime_of
from tierbridge.core.runners.deferral import defer_ticket
from tierbridge.core.runners.sweep import defer_due_tickets
from tierbridge.core.sla.timers import fire_timer

if TYPE_CHECKING:
    from procrastinate import JobContext

    from tierbridge.core.runtime import Runtime

__all__ = ["MAX_EVENTS_PER_JOB", "fire_timer_job", "handle_ticket", "poll"]

_log = structlog.get_logger(__name__)

#: Events one ticket job handles before it defers a follow-up job and ends, so a ticket
#: with a long backlog does not hold a worker while other tickets wait.
MAX_EVENTS_PER_JOB = 20


def handle_ticket(
    context: JobContext, connector: str, ticket_id: str, event_id: int | None = None
) -> int:
    """Handle the ticket's due events, oldest first, and return how many ran.

    The store's claim picks them, so arrival order and the one-event-at-a-time rule hold
    even if this job runs before the job of an older event. An event put back for a
    retry ends the job, because the ticket's later events must wait for it, and a job
    deferred to its `available_at` takes the ticket up again then.
    """
    rt = runtime_of(context)
    started = time.monotonic()
    handled = 0
    while handled < MAX_EVENTS_PER_JOB:
        event = rt.store.claim_event(
            rt.clock(), rt.config.queue.lease_seconds, connector=connector, ticket_id=ticket_id
        )
        if event is None:
            break
        handle_event(rt, event)
        handled += 1

        retry_at = _retry_time(rt, event.id)
        if retry_at is not None:
            defer_ticket(context.app, connector, ticket_id, at=retry_at)
            break
    else:  # the cap was reached: a follow-up job, behind other tickets' jobs, goes on
        defer_ticket(context.app, connector, ticket_id)

    _log.info(
        "ticket_job",
        connector=connector,
        ticket=ticket_id,
        event_id=event_id,
        handled=handled,
        duration_ms=round((time.monotonic() - started) * 1000, 2),
    )
    return handled


def _retry_time(rt: Runtime, event_id: int) -> datetime | None:
    """Return when the engine wants the event tried again, or None if it is settled."""
    event = rt.store.get_event(event_id)
    if event is None or event.status not in ("pending", "failed"):
        return None
    return as_utc(event.available_at)


def poll(context: JobContext, timestamp: int, connector: str) -> int:
    """Poll one connector for the period starting at `timestamp`; return the events queued.

    The periodic deferrer passes `timestamp` (epoch seconds); procrastinate defers one job
    per connector and period however many workers run. A failed poll is logged and ends
    the job: the watermark stays, so the next period reads the same window again.
    """
    rt = runtime_of(context)
    try:
        result = poll_connector(rt, connector)
    except Exception as exc:  # the next period polls again; retrying now would double it
        _log.warning("poll_failed", connector=connector, period=timestamp, error=str(exc))
        return 0
    if result.queued:
        defer_due_tickets(context.app, rt, connector=connector)
    return result.queued


def fire_timer_job(context: JobContext, timer_id: int) -> bool:
    """Fire one SLA or age timer and defer its ticket's job; return whether it fired.

    A timer that is no longer pending, or not due yet (it was moved later), is left alone.
    """
    rt = runtime_of(context)
    timer = rt.store.get_timer(timer_id)
    if timer is None:
        return False
    fired = fire_timer(rt, timer_id)
    if fired:
        defer_ticket(context.app, timer.connector, timer.ticket_id)
    return fired
