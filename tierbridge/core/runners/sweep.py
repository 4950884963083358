"""The safety net of the procrastinate runner: jobs for work that has none, and dead workers.

Jobs are deferred as work arrives (a webhook node per stored event, a poll for what it
queued, a worker for the timers it arms and the retries it schedules). Any of those can be
lost between the store's commit and the defer, by a crash or a database error. Every
`sweep_seconds` one worker, chosen by procrastinate's periodic defer, defers a job for
each ticket with a due event and no job, and for each overdue timer without a due job.
A separate periodic job returns the jobs of workers that stopped sending heartbeats.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import structlog

from tierbridge.core.runners.context import as_utc, runtime_of
from tierbridge.core.runners.deferral import (
    TASK_POLL,
    active_ticket_locks,
    defer_tickets,
    defer_timer,
    ticket_lock,
    timers_with_due_jobs,
)

if TYPE_CHECKING:
    from procrastinate import App, JobContext

    from tierbridge.core.runtime import Runtime
    from tierbridge.core.store import InboxRow

__all__ = [
    "SWEEP_LIMIT",
    "defer_due_tickets",
    "defer_overdue_timers",
    "recover_stalled_jobs",
    "remove_old_jobs",
    "sweep",
]

_log = structlog.get_logger(__name__)

#: Events read per status by one sweep. A larger backlog is covered over several sweeps,
#: since the jobs deferred by one sweep shrink what the next one reads.
SWEEP_LIMIT = 5000


def sweep(context: JobContext, timestamp: int) -> int:
    """Defer jobs for due events and overdue timers that have none; return how many."""
    rt = runtime_of(context)
    deferred = defer_due_tickets(context.app, rt) + defer_overdue_timers(context.app, rt)
    if deferred:
        _log.info("sweep_deferred", jobs=deferred, period=timestamp)
    return deferred


def defer_due_tickets(app: App, rt: Runtime, *, connector: str | None = None) -> int:
    """Defer one job per ticket that has a due event and no job waiting or running.

    A due event is pending with `available_at` passed, or processing with an expired
    lease (its worker died). Only `connector`'s tickets are looked at when it is given.
    """
    now = rt.clock()
    due: dict[tuple[str, str], int] = {}
    for event in _unfinished_events(rt):
        if connector is not None and event.connector != connector:
            continue
        if _is_due(event, now):
            due.setdefault((event.connector, event.ticket_id), event.id)
    if not due:
        return 0

    locks = {ticket_lock(*ticket): ticket for ticket in due}
    busy = active_ticket_locks(app, sorted(locks))
    missing = [(*ticket, due[ticket]) for lock, ticket in locks.items() if lock not in busy]
    return defer_tickets(app, missing)


def _unfinished_events(rt: Runtime) -> list[InboxRow]:
    events: list[InboxRow] = []
    for status in ("pending", "failed", "processing"):
        events.extend(rt.store.list_events(status=status, limit=SWEEP_LIMIT))
    return events


def _is_due(event: InboxRow, now: dt.datetime) -> bool:
    if event.status == "processing":
        return event.lease_until is None or as_utc(event.lease_until) <= now
    return as_utc(event.available_at) <= now


def defer_overdue_timers(app: App, rt: Runtime) -> int:
    """Defer a fire job for each pending timer past due that has no job due by now.

    Such a timer was armed by a process that died before deferring its job, or moved
    earlier than its job.
    """
    now = rt.clock()
    overdue = [timer for timer in rt.store.pending_timers() if as_utc(timer.due_at) <= now]
    if not overdue:
        return 0
    covered = timers_with_due_jobs(app, now)
    deferred = 0
    for timer in overdue:
        if timer.id not in covered:
            defer_timer(app, timer.id, now)
            deferred += 1
    return deferred


async def recover_stalled_jobs(context: JobContext, timestamp: int) -> int:
    """Put the running jobs of dead workers back in the queue; return how many.

    A worker is dead when its last heartbeat is older than `stalled_after_seconds`. Its
    ticket and timer jobs run again from the start, which is safe: the store's lease keeps
    the ticket's event from running before the dead worker's lease expires. Its polls are
    marked failed instead, since the next period polls anyway.
    """
    from procrastinate.jobs import Status

    settings = runtime_of(context).config.procrastinate
    manager = context.app.job_manager
    stalled = await manager.get_stalled_jobs(seconds_since_heartbeat=settings.stalled_after_seconds)
    recovered = 0
    for job in stalled:
        if job.id is None:
            continue
        try:
            if job.task_name == TASK_POLL:
                await manager.finish_job_by_id_async(job.id, Status.FAILED, delete_job=False)
            else:
                await manager.retry_job_by_id_async(job.id, retry_at=dt.datetime.now(dt.UTC))
        except Exception as exc:  # it finished meanwhile: its worker was slow, not dead
            _log.warning("stalled_job_not_recovered", job_id=job.id, error=str(exc))
            continue
        recovered += 1
        _log.warning(
            "stalled_job_recovered", job_id=job.id, task=job.task_name, worker_id=job.worker_id
        )
    await manager.prune_stalled_workers(settings.stalled_after_seconds)
    return recovered


async def remove_old_jobs(context: JobContext, timestamp: int) -> None:
    """Delete finished jobs older than `keep_jobs_hours`; the sync log keeps the record."""
    settings = runtime_of(context).config.procrastinate
    await context.app.job_manager.delete_old_jobs(
        nb_hours=settings.keep_jobs_hours, include_failed=True, include_cancelled=True
    )
    _log.info("old_jobs_removed", older_than_hours=settings.keep_jobs_hours, period=timestamp)
