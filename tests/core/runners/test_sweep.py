"""Tests for the sweep: jobs for due work that has none, and the jobs of dead workers."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import pytest

from tests.conftest import Stack
from tests.core.runners.conftest import job_rows, opened, run_jobs
from tierbridge.core.runners.deferral import (
    TASK_POLL,
    TASK_RECOVER,
    defer_ticket,
    poll_lock,
)
from tierbridge.core.runners.sweep import defer_due_tickets, defer_overdue_timers

if TYPE_CHECKING:
    from procrastinate import App

pytestmark = pytest.mark.postgres

_TODO_LOCKS = "SELECT lock FROM procrastinate_jobs WHERE status = 'todo' ORDER BY lock"


def test_sweep_defers_due_tickets(job_stack: Stack, app: App) -> None:
    """Each ticket with a due event gets one job; a ticket waiting for a retry gets none."""
    rt = job_stack.rt
    job_stack.queue("snow", "a")
    job_stack.queue("snow", "a")
    job_stack.queue("jsm", "b")
    waiting = job_stack.queue("snow", "c")
    rt.store.retry_event(waiting, "timed out", rt.clock() + timedelta(minutes=5))

    with opened(app):
        deferred = defer_due_tickets(app, rt)

    assert deferred == 2
    assert job_rows(rt.config, _TODO_LOCKS) == [("ticket:jsm:b",), ("ticket:snow:a",)]


def test_sweep_skips_tickets_with_jobs(job_stack: Stack, app: App) -> None:
    """A ticket that has a job waiting gets no second one."""
    rt = job_stack.rt
    job_stack.queue("snow", "a")
    job_stack.queue("snow", "b")
    with opened(app):
        defer_ticket(app, "snow", "a")
        deferred = defer_due_tickets(app, rt)

    assert deferred == 1
    assert job_rows(rt.config, _TODO_LOCKS) == [("ticket:snow:a",), ("ticket:snow:b",)]


def test_sweep_filters_by_connector(job_stack: Stack, app: App) -> None:
    """With a connector, only that connector's tickets get jobs (as after a poll)."""
    rt = job_stack.rt
    job_stack.queue("snow", "a")
    job_stack.queue("jsm", "b")
    with opened(app):
        deferred = defer_due_tickets(app, rt, connector="jsm")

    assert deferred == 1
    assert job_rows(rt.config, _TODO_LOCKS) == [("ticket:jsm:b",)]


def test_sweep_takes_expired_lease(job_stack: Stack, app: App) -> None:
    """An event whose worker died (lease expired) is due again; a live lease is not."""
    rt = job_stack.rt
    job_stack.queue("snow", "dead-worker")
    job_stack.queue("snow", "live-worker")
    expired = rt.store.claim_event(rt.clock(), -60, connector="snow", ticket_id="dead-worker")
    live = rt.store.claim_event(rt.clock(), 600, connector="snow", ticket_id="live-worker")
    assert expired is not None
    assert live is not None

    with opened(app):
        deferred = defer_due_tickets(app, rt)

    assert deferred == 1
    assert job_rows(rt.config, _TODO_LOCKS) == [("ticket:snow:dead-worker",)]


def test_overdue_timer_deferred_once(job_stack: Stack, app: App) -> None:
    """An overdue pending timer gets one fire job; a later sweep finds that job and adds none."""
    rt = job_stack.rt
    incident = job_stack.open_incident()
    job_stack.process("snow", incident["sys_id"])
    ref = rt.store.find_ref("snow", incident["sys_id"])
    assert ref is not None
    past, future = rt.clock() - timedelta(seconds=5), rt.clock() + timedelta(hours=1)
    rt.store.replace_timers(
        "snow", incident["sys_id"], ref.link_id, {"age:60": past, "age:7200": future}
    )

    with opened(app):
        first = defer_overdue_timers(app, rt)
        second = defer_overdue_timers(app, rt)

    assert (first, second) == (1, 0)


def test_stalled_jobs_recovered(job_stack: Stack, app: App) -> None:
    """A dead worker's ticket job runs again; its poll job is marked failed instead."""
    rt = job_stack.rt
    with opened(app):
        ticket_job = defer_ticket(app, "snow", "a")
        poll_job = app.configure_task(TASK_POLL, lock=poll_lock("snow")).defer(
            timestamp=0, connector="snow"
        )
        app.configure_task(TASK_RECOVER).defer(timestamp=0)
    dead_worker = job_rows(
        rt.config,
        "INSERT INTO procrastinate_workers (last_heartbeat) VALUES (now() - interval '1 hour') "
        "RETURNING id",
    )[0][0]
    job_rows(
        rt.config,
        "UPDATE procrastinate_jobs SET status = 'doing', worker_id = %s WHERE id = ANY(%s) "
        "RETURNING id",
        dead_worker,
        [ticket_job, poll_job],
    )

    run_jobs(app, rt)

    outcome = dict(job_rows(rt.config, "SELECT id, status::text FROM procrastinate_jobs"))
    assert outcome[ticket_job] == "succeeded"
    assert outcome[poll_job] == "failed"
    workers = job_rows(rt.config, "SELECT id FROM procrastinate_workers WHERE id = %s", dead_worker)
    assert workers == []
