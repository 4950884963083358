"""Timers as APScheduler date jobs: armed at start from the store, followed while running.

The simulated clock is in 2030, after the real time, so no scheduled job runs by itself
during these tests. They check what is scheduled and run the unit of work themselves.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from tests.core.rules.memory import Harness
from tierbridge.core.runner import EmbeddedRunner
from tierbridge.core.runtime import Runtime
from tierbridge.core.sla.scheduling import TimerScheduler
from tierbridge.core.sla.timers import fire_timer
from tierbridge.core.store import Store

CONFIG = """
sla:
  targets:
    L1: {default: {resolution: 4h}}
rules:
  - name: resolution-breach
    when: {tier: L1, sla: {resolution: breached}}
    then: [{escalate: L2}]
"""
OPENED = datetime(2030, 1, 4, 9, 0, tzinfo=UTC)
DUE = datetime(2030, 1, 4, 13, 0, tzinfo=UTC)


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    built = Harness.from_yaml(tmp_path, CONFIG, OPENED, tiers=2)
    yield built
    built.close()


def open_ticket(harness: Harness) -> str:
    ticket_id = harness.systems["l1"].open(title="Disk full", priority="P3")
    harness.settle()
    return ticket_id


def resolution_timer_id(harness: Harness, ticket_id: str) -> int:
    (timer,) = [
        t for t in harness.rt.store.timers_of("l1", ticket_id) if t.name == "resolution:100"
    ]
    return timer.id


class TestTimerScheduler:
    def test_start_loads_pending(self, harness: Harness) -> None:
        """Starting schedules one date job per pending timer, at its due time."""
        ticket_id = open_ticket(harness)
        scheduler = BackgroundScheduler(timezone="UTC")
        timers = TimerScheduler(harness.rt, scheduler, on_fired=lambda: None)

        timers.start()
        try:
            scheduled = timers.scheduled()
        finally:
            timers.stop()

        assert scheduled == {resolution_timer_id(harness, ticket_id): DUE}

    def test_follows_new_and_canceled(self, harness: Harness) -> None:
        """A timer armed by an event is scheduled at once and unscheduled when canceled."""
        scheduler = BackgroundScheduler(timezone="UTC")
        timers = TimerScheduler(harness.rt, scheduler, on_fired=lambda: None)
        timers.start()
        try:
            ticket_id = open_ticket(harness)
            armed = timers.scheduled()
            harness.systems["l1"].edit(ticket_id, status="resolved", close_notes="Cleaned up.")
            harness.settle()
            after = timers.scheduled()
        finally:
            timers.stop()

        assert list(armed.values()) == [DUE]
        assert after == {}

    def test_reload_drops_stale_jobs(self, harness: Harness) -> None:
        """A reload removes jobs whose timer is no longer pending in the store."""
        scheduler = BackgroundScheduler(timezone="UTC")
        timers = TimerScheduler(harness.rt, scheduler, on_fired=lambda: None)
        ticket_id = open_ticket(harness)
        timers.start()
        timers.stop()
        harness.systems["l1"].edit(ticket_id, status="resolved", close_notes="Cleaned up.")
        harness.settle()

        timers.reload()

        assert timers.scheduled() == {}


def test_restart_keeps_timer(harness: Harness) -> None:
    """A new runtime and runner on the same store schedule the timer again, and it fires."""
    ticket_id = open_ticket(harness)
    timer_id = resolution_timer_id(harness, ticket_id)
    first = EmbeddedRunner(harness.rt, workers=0, serve_http=False).start()
    before = first.timers.scheduled()
    first.stop()
    harness.rt.store.close()

    store = Store.open(harness.rt.config.store.url)
    restarted = Runtime(
        config=harness.rt.config,
        store=store,
        connectors=harness.rt.connectors,
        mappers=harness.rt.mappers,
        policy=harness.rt.policy,
        clock=harness.clock,
    )
    harness.rt = restarted
    second = EmbeddedRunner(restarted, workers=0, serve_http=False).start()
    try:
        after = second.timers.scheduled()
        harness.clock.set(DUE)
        fired = fire_timer(restarted, timer_id)
        harness.settle()
    finally:
        second.stop()

    assert before == {timer_id: DUE}
    assert after == {timer_id: DUE}
    assert fired is True
    assert len(harness.systems["l2"].records) == 1


def test_overdue_timer_fires_at_start(tmp_path: Path) -> None:
    """A timer that fell due while no runner ran fires as soon as a runner starts."""
    past = datetime(2020, 3, 2, 9, 0, tzinfo=UTC)
    harness = Harness.from_yaml(tmp_path, CONFIG, past, tiers=2)
    ticket_id = open_ticket(harness)
    timer_id = resolution_timer_id(harness, ticket_id)
    harness.clock.set(past.replace(hour=14))
    woken: list[bool] = []
    scheduler = BackgroundScheduler(timezone="UTC")
    timers = TimerScheduler(harness.rt, scheduler, on_fired=lambda: woken.append(True))

    timers.start()
    scheduler.start()
    try:
        # Wait until the job ran and APScheduler dropped it, so shutdown does not race it.
        deadline = time.monotonic() + 10
        while (not woken or timers.scheduled()) and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        scheduler.shutdown(wait=True)
        timers.stop()

    timer = harness.rt.store.get_timer(timer_id)
    assert woken == [True]
    assert timer is not None
    assert timer.status == "fired"
    assert harness.rt.store.pending_count() == 1
    harness.close()
