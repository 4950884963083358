"""Tests for the runner's entry points: the webhook node's defers and the timer listener."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient
from structlog.testing import capture_logs

from tests.conftest import CORRELATION_FIELD, Stack
from tests.core.runners.conftest import job_rows, opened, run_jobs
from tests.core.test_server import snow_headers, snow_notice
from tierbridge.core.runners.procrastinate_app import build_app
from tierbridge.core.runners.worker import _timer_deferrer, stored_event_deferrer
from tierbridge.core.server import create_app

if TYPE_CHECKING:
    from procrastinate import App

pytestmark = pytest.mark.postgres

_JOBS = (
    "SELECT task_name, lock, args->>'event_id', status::text FROM procrastinate_jobs ORDER BY id"
)


def test_stored_events_defer_jobs(job_stack: Stack, app: App) -> None:
    """The webhook node defers one ticket job per stored event, under the ticket's lock."""
    with opened(app):
        stored_event_deferrer(app)([(11, "snow", "a"), (12, "snow", "b")])

    assert job_rows(job_stack.rt.config, _JOBS) == [
        ("tierbridge.handle_ticket", "ticket:snow:a", "11", "todo"),
        ("tierbridge.handle_ticket", "ticket:snow:b", "12", "todo"),
    ]


def test_defer_failure_logged(job_stack: Stack) -> None:
    """A defer that fails is logged and not raised, since the sweep covers the event."""
    config = job_stack.rt.config
    settings = config.procrastinate.model_copy(update={"job_schema": "tb_no_such_schema"})
    broken = build_app(config.model_copy(update={"procrastinate": settings}))

    with opened(broken), capture_logs() as logs:
        stored_event_deferrer(broken)([(11, "snow", "a")])

    failures = [entry for entry in logs if entry["event"] == "job_defer_failed"]
    assert [entry["event_ids"] for entry in failures] == [[11]]


def test_timer_listener_defers_fire_job(job_stack: Stack, app: App) -> None:
    """Each timer an event arms gets a fire job scheduled at its due time."""
    rt = job_stack.rt
    incident = job_stack.open_incident()
    job_stack.process("snow", incident["sys_id"])
    ref = rt.store.find_ref("snow", incident["sys_id"])
    assert ref is not None
    due = rt.clock() + timedelta(hours=2)
    armed, _ = rt.store.replace_timers("snow", incident["sys_id"], ref.link_id, {"age:7200": due})

    with opened(app):
        _timer_deferrer(app)(armed, [])

    rows = job_rows(
        rt.config, "SELECT task_name, args->>'timer_id', scheduled_at FROM procrastinate_jobs"
    )
    assert rows == [("tierbridge.fire_timer", str(armed[0].id), due)]


def test_webhook_to_worker_escalates(job_stack: Stack, app: App) -> None:
    """A webhook stored on one node is handled by a worker: the P1 incident reaches JSM."""
    incident = job_stack.open_incident(impact="1", urgency="1")
    body = snow_notice(incident["sys_id"])
    with (
        opened(app),
        TestClient(create_app(job_stack.rt, on_stored=stored_event_deferrer(app))) as client,
    ):
        first = client.post("/webhooks/snow", content=body, headers=snow_headers(body))
        again = client.post("/webhooks/snow", content=body, headers=snow_headers(body))

    run_jobs(app, job_stack.rt, concurrency=2)

    assert first.json() == {"accepted": 1, "duplicates": 0}
    assert again.json() == {"accepted": 0, "duplicates": 1}
    issues = job_stack.jsm_issues()
    assert [issue["fields"][CORRELATION_FIELD] for issue in issues] == [
        f"snow:{incident['sys_id']}"
    ]
    assert [row[3] for row in job_rows(job_stack.rt.config, _JOBS)] == ["succeeded"]
