"""Tests for building the procrastinate App: its tasks, periodic jobs and cron lines."""

from __future__ import annotations

import pytest
from procrastinate.jobs import Job

from tests.conftest import DEMO_CONFIG
from tierbridge.core.config import AppConfig, load_config
from tierbridge.core.errors import StoreError
from tierbridge.core.runners.deferral import TASK_HANDLE_TICKET, TASK_POLL
from tierbridge.core.runners.procrastinate_app import build_app, interval_cron

_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def demo_config() -> AppConfig:
    config = load_config(DEMO_CONFIG)
    store = config.store.model_copy(update={"url": _POSTGRES})
    return config.model_copy(update={"store": store, "runner": "procrastinate"})


@pytest.mark.parametrize(
    ("seconds", "cron"),
    [
        (0.25, "* * * * * */1"),
        (1, "* * * * * */1"),
        (7, "* * * * * */6"),
        (30, "* * * * * */30"),
        (59, "* * * * * */30"),
        (60, "*/1 * * * *"),
        (90, "*/1 * * * *"),
        (300, "*/5 * * * *"),
        (3599, "*/30 * * * *"),
        (3600, "0 */1 * * *"),
        (5 * 3600, "0 */4 * * *"),
        (86400, "0 0 * * *"),
    ],
)
def test_interval_cron_rounds_down(seconds: float, cron: str) -> None:
    """Each period becomes the longest cron period that is not longer."""
    assert interval_cron(seconds) == cron


def test_app_registers_tasks() -> None:
    """The App has one task per unit of work, the sweeps and one poll per connector."""
    app = build_app(demo_config())

    assert {
        "tierbridge.handle_ticket",
        "tierbridge.poll_connector",
        "tierbridge.fire_timer",
        "tierbridge.sweep",
        "tierbridge.recover_stalled_jobs",
        "tierbridge.remove_old_jobs",
    } <= set(app.tasks)
    periodic = app.periodic_registry.periodic_tasks
    assert sorted(periodic) == [
        ("tierbridge.poll_connector", "poll:jsm"),
        ("tierbridge.poll_connector", "poll:snow"),
        ("tierbridge.recover_stalled_jobs", "recover"),
        ("tierbridge.remove_old_jobs", "cleanup"),
        ("tierbridge.sweep", "sweep"),
    ]


def test_polls_locked_per_connector() -> None:
    """Each connector's periodic poll carries its connector and a lock of its own."""
    app = build_app(demo_config())
    polls = {
        periodic_id: task.configure_kwargs
        for (name, periodic_id), task in app.periodic_registry.periodic_tasks.items()
        if name == TASK_POLL
    }

    assert polls["poll:snow"]["lock"] == "poll:snow"
    assert polls["poll:snow"]["task_kwargs"] == {"connector": "snow"}
    assert polls["poll:jsm"]["lock"] == "poll:jsm"
    assert app.periodic_registry.periodic_tasks[(TASK_POLL, "poll:snow")].cron == ("* * * * * */30")


def test_ticket_retry_only_outages() -> None:
    """A ticket job is retried after a store outage, never after a bug."""
    task = build_app(demo_config()).tasks[TASK_HANDLE_TICKET]
    job = Job(id=1, queue="default", lock=None, queueing_lock=None, task_name=task.name, attempts=0)

    assert task.get_retry_exception(exception=StoreError("connection lost"), job=job) is not None
    assert task.get_retry_exception(exception=ValueError("bug"), job=job) is None
