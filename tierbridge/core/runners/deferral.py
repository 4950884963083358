"""Defer the runner's jobs, and ask procrastinate's tables which jobs are still to run.

Every job of one ticket carries the procrastinate lock `ticket:<connector>:<ticket id>`,
the key of the store's per-ticket claim order. procrastinate runs at most one job of a
lock at a time (a unique index over the running jobs' locks), and starts a lock's jobs in
the order they were deferred. So one ticket's events never run concurrently on any node.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from procrastinate import App

__all__ = [
    "TASK_CLEANUP",
    "TASK_FIRE_TIMER",
    "TASK_HANDLE_TICKET",
    "TASK_POLL",
    "TASK_RECOVER",
    "TASK_SWEEP",
    "active_ticket_locks",
    "defer_ticket",
    "defer_tickets",
    "defer_timer",
    "poll_lock",
    "ticket_lock",
    "timers_with_due_jobs",
]

TASK_HANDLE_TICKET = "tierbridge.handle_ticket"
TASK_POLL = "tierbridge.poll_connector"
TASK_FIRE_TIMER = "tierbridge.fire_timer"
TASK_SWEEP = "tierbridge.sweep"
TASK_RECOVER = "tierbridge.recover_stalled_jobs"
TASK_CLEANUP = "tierbridge.remove_old_jobs"

_ACTIVE_LOCKS = """
SELECT DISTINCT lock FROM procrastinate_jobs
 WHERE status IN ('todo', 'doing') AND lock = ANY(%(locks)s::varchar[])
"""

_TIMERS_WITH_DUE_JOBS = """
SELECT DISTINCT (args->>'timer_id')::bigint AS timer_id FROM procrastinate_jobs
 WHERE task_name = %(task_name)s
   AND (status = 'doing' OR (status = 'todo' AND (scheduled_at IS NULL OR scheduled_at <= %(now)s)))
"""


def ticket_lock(connector: str, ticket_id: str) -> str:
    """Return the procrastinate lock of a ticket's jobs."""
    # NOTE: the lock is per ticket, like the store's claim order, not per link. The two
    # tickets of one link (a ServiceNow incident and its JSM request) may run at the same
    # time on two workers, as they may on two threads of the embedded runner.
    return f"ticket:{connector}:{ticket_id}"


def poll_lock(connector: str) -> str:
    """Return the procrastinate lock of a connector's polls, so two never overlap."""
    return f"poll:{connector}"


def defer_ticket(
    app: App,
    connector: str,
    ticket_id: str,
    *,
    event_id: int | None = None,
    at: datetime | None = None,
) -> int:
    """Defer a job that handles the ticket's due events, from `at` or now; return its id.

    `event_id` names the event that requested the job, shown in the job list. The job
    handles whichever events of the ticket are due when it runs, oldest first.
    """
    job_kwargs: dict[str, Any] = {"connector": connector, "ticket_id": ticket_id}
    if event_id is not None:
        job_kwargs["event_id"] = event_id
    deferrer = app.configure_task(
        TASK_HANDLE_TICKET, lock=ticket_lock(connector, ticket_id), schedule_at=at
    )
    job_id: int = deferrer.defer(**job_kwargs)
    return job_id


def defer_tickets(app: App, tickets: Iterable[tuple[str, str, int | None]]) -> int:
    """Defer one ticket job per (connector, ticket id, event id) in one query; return the count."""
    jobs = []
    for connector, ticket_id, event_id in tickets:
        deferrer = app.configure_task(TASK_HANDLE_TICKET, lock=ticket_lock(connector, ticket_id))
        job_kwargs: dict[str, Any] = {"connector": connector, "ticket_id": ticket_id}
        if event_id is not None:
            job_kwargs["event_id"] = event_id
        jobs.append(deferrer.make_new_job(**job_kwargs))
    if not jobs:
        return 0
    app.job_manager.batch_defer_jobs(jobs)
    return len(jobs)


def defer_timer(app: App, timer_id: int, due_at: datetime) -> int:
    """Defer a job that fires SLA timer `timer_id` at `due_at`; return its id.

    A timer moved later leaves this job in place. Run at the old time, the job finds the
    timer not due and does nothing, and the job deferred for the new time fires it.
    """
    job_id: int = app.configure_task(TASK_FIRE_TIMER, schedule_at=due_at).defer(timer_id=timer_id)
    return job_id


def active_ticket_locks(app: App, locks: list[str]) -> set[str]:
    """Return the locks among `locks` that have a job waiting or running."""
    if not locks:
        return set()
    rows = app.connector.get_sync_connector().execute_query_all(_ACTIVE_LOCKS, locks=locks)
    return {str(row["lock"]) for row in rows}


def timers_with_due_jobs(app: App, now: datetime) -> set[int]:
    """Return the ids of timers that have a fire job running or due to run by `now`."""
    rows = app.connector.get_sync_connector().execute_query_all(
        _TIMERS_WITH_DUE_JOBS, task_name=TASK_FIRE_TIMER, now=now
    )
    return {int(row["timer_id"]) for row in rows if row["timer_id"] is not None}
