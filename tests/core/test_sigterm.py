"""SIGTERM stops `tierbridge run` within 10 s: in-flight events finish or go back to the queue.

Each test runs the daemon as a child process against emulators served by the test.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from bench._scenario import Scenario
from tierbridge.core.store import InboxRow, Store

#: What `tierbridge run` promises: it exits this soon after SIGTERM.
EXIT_SECONDS = 10.0
JIRA_WRITE_DELAY_SECONDS = 1.0

pytestmark = pytest.mark.slow


def slow_jira_writes(app: ASGIApp) -> ASGIApp:
    """Delay each write to the JSM emulator, so an escalation stays in flight for seconds."""

    async def delayed(scope: Scope, receive: Receive, send: Send) -> None:
        is_write = scope["type"] == "http" and scope["method"] in ("POST", "PUT")
        if is_write and not scope["path"].endswith("/search/jql"):
            await asyncio.sleep(JIRA_WRITE_DELAY_SECONDS)
        await app(scope, receive, send)

    return delayed


@pytest.fixture
def black_hole() -> Iterator[int]:
    """Yield the port of a listener that never accepts: calls to it hang until they time out."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield listener.getsockname()[1]


@pytest.fixture
def scenario_factory(tmp_path: Path) -> Iterator[Callable[..., Scenario]]:
    started: list[Scenario] = []

    def start(**options: object) -> Scenario:
        scenario = Scenario.start(tmp_path / f"run-{len(started)}", **options)  # type: ignore[arg-type]
        started.append(scenario)
        return scenario

    yield start
    for scenario in started:
        scenario.stop()


def wait_for_processing(store: Store, timeout: float = 10.0) -> InboxRow:
    """Return the first event seen in processing; fail the test if none shows up in time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        running = store.list_events(status="processing")
        if running:
            return running[0]
        time.sleep(0.02)
    pytest.fail(f"no event was processing within {timeout} s")


def live_leases(store: Store) -> list[InboxRow]:
    now = datetime.now(UTC)
    return [
        event
        for event in store.list_events(status="processing")
        if event.lease_until is not None and event.lease_until > now
    ]


def test_sigterm_idle_daemon(scenario_factory: Callable[..., Scenario]) -> None:
    """An idle daemon exits within the promised 10 s with status 0."""
    scenario = scenario_factory()
    daemon = scenario.start_daemon()

    seconds = daemon.terminate(EXIT_SECONDS)

    assert seconds < 10.0
    assert daemon.process.returncode == 0


def test_sigterm_drains_event(scenario_factory: Callable[..., Scenario]) -> None:
    """An escalation in flight at SIGTERM finishes: one JSM request, the event done."""
    scenario = scenario_factory(jira_middleware=slow_jira_writes)
    daemon = scenario.start_daemon()
    store = scenario.open_store()
    try:
        scenario.l1.create_incident(short_description="VPN down", impact="1", urgency="1")
        in_flight = wait_for_processing(store)

        seconds = daemon.terminate(EXIT_SECONDS)

        event = store.get_event(in_flight.id)
        assert event is not None
        assert event.status == "done"
        assert live_leases(store) == []
    finally:
        store.close()
    assert seconds < EXIT_SECONDS
    assert seconds > JIRA_WRITE_DELAY_SECONDS / 2
    assert daemon.process.returncode == 0
    assert len(scenario.l2.search("project = L2 ORDER BY key ASC")) == 1


def test_sigterm_returns_stuck_event(
    scenario_factory: Callable[..., Scenario], black_hole: int
) -> None:
    """An event and a poll stuck on a silent target do not hold up the exit; the event is queued again."""
    silent_jira = {"base_url": f"https://127.0.0.1:{black_hole}", "timeout_seconds": 30}
    scenario = scenario_factory(connector_overrides={"jsm": silent_jira})
    daemon = scenario.start_daemon()
    store = scenario.open_store()
    try:
        scenario.l1.create_incident(short_description="VPN down", impact="1", urgency="1")
        stuck = wait_for_processing(store)

        seconds = daemon.terminate(EXIT_SECONDS)

        event = store.get_event(stuck.id)
        assert event is not None
        assert event.status == "pending"
        assert event.attempts == 0
        assert live_leases(store) == []
    finally:
        store.close()
    assert seconds < EXIT_SECONDS
    assert daemon.process.returncode == 0
