"""Tests for the procrastinate tasks, run by a real worker on PostgreSQL and the emulators."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from structlog.testing import capture_logs

from tests.conftest import Stack
from tests.core.runners.conftest import job_rows, opened, run_jobs
from tierbridge.core.runners import tasks
from tierbridge.core.runners.deferral import TASK_POLL, defer_ticket, defer_timer, poll_lock
from tierbridge.core.store import InboxRow

if TYPE_CHECKING:
    from procrastinate import App

    from tierbridge.core.runtime import Runtime

pytestmark = pytest.mark.postgres


def statuses(stack: Stack, event_ids: list[int]) -> list[str]:
    rows = [stack.rt.store.get_event(event_id) for event_id in event_ids]
    return [row.status if row is not None else "missing" for row in rows]


def test_ticket_job_runs_events_in_order(job_stack: Stack, app: App) -> None:
    """One ticket job handles every due event of its ticket, oldest first."""
    incident = job_stack.open_incident()
    event_ids = [job_stack.queue("snow", incident["sys_id"]) for _ in range(3)]
    with opened(app):
        defer_ticket(app, "snow", incident["sys_id"], event_id=event_ids[-1])

    run_jobs(app, job_stack.rt)

    assert statuses(job_stack, event_ids) == ["done", "done", "done"]
    logged = [row.event_id for row in sorted(job_stack.rt.store.sync_log(), key=lambda r: r.id)]
    assert logged == sorted(logged)
    assert set(logged) == set(event_ids)


def test_ticket_job_leaves_other_tickets(job_stack: Stack, app: App) -> None:
    """A ticket job claims only its own ticket's events."""
    mine = job_stack.open_incident()
    other = job_stack.open_incident(short_description="Printer jams")
    mine_event = job_stack.queue("snow", mine["sys_id"])
    other_event = job_stack.queue("snow", other["sys_id"])
    with opened(app):
        defer_ticket(app, "snow", mine["sys_id"])

    run_jobs(app, job_stack.rt)

    assert statuses(job_stack, [mine_event, other_event]) == ["done", "pending"]


def test_ticket_job_defers_engine_retry(
    job_stack: Stack, app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An event put back for a retry ends the job and defers the next at its available_at."""
    rt = job_stack.rt
    retry_at = rt.clock() + timedelta(minutes=5)

    def fail_transiently(runtime: Runtime, event: InboxRow) -> None:
        runtime.store.retry_event(event.id, "JSM timed out", retry_at)

    monkeypatch.setattr(tasks, "handle_event", fail_transiently)
    first = job_stack.queue("snow", "ticket-1")
    second = job_stack.queue("snow", "ticket-1")
    with opened(app):
        defer_ticket(app, "snow", "ticket-1")

    run_jobs(app, rt)

    assert statuses(job_stack, [first, second]) == ["pending", "pending"]
    waiting = job_rows(
        rt.config,
        "SELECT lock, scheduled_at FROM procrastinate_jobs WHERE status = 'todo'",
    )
    assert waiting == [("ticket:snow:ticket-1", retry_at)]


def test_ticket_job_cap_defers_follow_up(
    job_stack: Stack, app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A job stops after MAX_EVENTS_PER_JOB events and a follow-up job handles the rest."""
    monkeypatch.setattr(tasks, "MAX_EVENTS_PER_JOB", 2)
    monkeypatch.setattr(tasks, "handle_event", lambda rt, event: rt.store.complete_event(event.id))
    event_ids = [job_stack.queue("snow", "ticket-1") for _ in range(3)]
    with opened(app):
        defer_ticket(app, "snow", "ticket-1")

    run_jobs(app, job_stack.rt)

    assert statuses(job_stack, event_ids) == ["done", "done", "done"]
    jobs = job_rows(job_stack.rt.config, "SELECT status FROM procrastinate_jobs ORDER BY id")
    assert jobs == [("succeeded",), ("succeeded",)]


def test_timer_job_fires_due_timer(job_stack: Stack, app: App) -> None:
    """A due timer fires, and the timer event it queues is handled by a ticket job."""
    rt = job_stack.rt
    incident = job_stack.open_incident()
    job_stack.process("snow", incident["sys_id"])
    ref = rt.store.find_ref("snow", incident["sys_id"])
    assert ref is not None
    due = rt.clock() - timedelta(seconds=5)
    armed, _ = rt.store.replace_timers("snow", incident["sys_id"], ref.link_id, {"age:60": due})
    with opened(app):
        defer_timer(app, armed[0].id, due)

    run_jobs(app, rt)

    timer = rt.store.get_timer(armed[0].id)
    assert timer is not None
    assert timer.status == "fired"
    timer_events = [event for event in rt.store.list_events() if event.kind == "timer"]
    assert [event.status for event in timer_events] == ["done"]


def test_timer_job_early_does_nothing(job_stack: Stack, app: App) -> None:
    """A fire job that runs before its timer is due leaves the timer pending."""
    rt = job_stack.rt
    incident = job_stack.open_incident()
    job_stack.process("snow", incident["sys_id"])
    ref = rt.store.find_ref("snow", incident["sys_id"])
    assert ref is not None
    due = rt.clock() + timedelta(hours=1)
    armed, _ = rt.store.replace_timers("snow", incident["sys_id"], ref.link_id, {"age:60": due})
    with opened(app):
        defer_timer(app, armed[0].id, rt.clock())

    run_jobs(app, rt)

    timer = rt.store.get_timer(armed[0].id)
    assert timer is not None
    assert timer.status == "pending"


def test_poll_job_queues_and_handles(job_stack: Stack, app: App) -> None:
    """A poll job queues a changed record, and the ticket job it defers handles it."""
    incident = job_stack.open_incident()
    with opened(app):
        app.configure_task(TASK_POLL, lock=poll_lock("snow")).defer(timestamp=0, connector="snow")

    run_jobs(app, job_stack.rt)

    events = job_stack.rt.store.list_events()
    assert [(event.ticket_id, event.kind, event.status) for event in events] == [
        (incident["sys_id"], "polled", "done")
    ]


def test_poll_job_failure_logged(
    job_stack: Stack, app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failed poll is logged and the job ends without a retry."""

    def broken(_rt: Runtime, _name: str) -> None:
        raise ConnectionError("ServiceNow unreachable")

    monkeypatch.setattr(tasks, "poll_connector", broken)
    with opened(app):
        app.configure_task(TASK_POLL, lock=poll_lock("snow")).defer(timestamp=7, connector="snow")

    with capture_logs() as logs:
        run_jobs(app, job_stack.rt)

    failures = [entry for entry in logs if entry["event"] == "poll_failed"]
    assert [(entry["connector"], entry["period"]) for entry in failures] == [("snow", 7)]
    jobs = job_rows(job_stack.rt.config, "SELECT status, attempts FROM procrastinate_jobs")
    assert jobs == [("succeeded", 1)]
