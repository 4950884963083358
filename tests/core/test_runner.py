"""Tests for `EmbeddedRunner`: workers, draining on stop, and wait_idle."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
import requests
from structlog.testing import capture_logs

from tests.conftest import Stack
from tierbridge.core.connector import NativeRecord
from tierbridge.core.errors import StoreError
from tierbridge.core.runner import EmbeddedRunner
from tierbridge.core.store import InboxRow

#: Incidents are stamped long before the runner starts, so its first polls find nothing.
LONG_AGO = datetime(2024, 5, 1, 7, 0, tzinfo=UTC)


class Gate:
    """A latch that blocks a connector read until the test opens it.

    `entered` is set once a read waits.
    """

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.opened = threading.Event()

    def hold(self, read: Callable[[str], NativeRecord]) -> Callable[[str], NativeRecord]:
        def held(ticket_id: str) -> NativeRecord:
            self.entered.set()
            assert self.opened.wait(10), "the test never opened the gate"
            return read(ticket_id)

        return held


@pytest.fixture
def runners(stack: Stack) -> Iterator[list[EmbeddedRunner]]:
    """Runners a test starts. Each is stopped at the end, so no worker outlives the test."""
    started: list[EmbeddedRunner] = []
    yield started
    for runner in started:
        runner.stop(timeout=5)


def old_incident(stack: Stack) -> str:
    """Open a P3 incident stamped LONG_AGO and return its sys_id."""
    stack.emulators.snow_clock.pinned = LONG_AGO
    sys_id = str(stack.open_incident()["sys_id"])
    stack.emulators.snow_clock.pinned = None
    return sys_id


def gated(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Gate:
    gate = Gate()
    connector = stack.rt.connectors["snow"]
    monkeypatch.setattr(connector, "get_record", gate.hold(connector.get_record))
    return gate


def start(runners: list[EmbeddedRunner], stack: Stack) -> EmbeddedRunner:
    runner = EmbeddedRunner(stack.rt, serve_http=False)
    runners.append(runner)
    return runner.start()


class TestStop:
    def test_drains_in_flight_event(
        self, stack: Stack, runners: list[EmbeddedRunner], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """stop() lets an in-flight event finish within the timeout and returns nothing."""
        event_id = stack.queue("snow", old_incident(stack))
        gate = gated(stack, monkeypatch)
        runner = start(runners, stack)
        assert gate.entered.wait(10)
        threading.Timer(0.05, gate.opened.set).start()

        with capture_logs() as logs:
            runner.stop(timeout=10)

        event = stack.rt.store.get_event(event_id)
        assert event is not None
        assert event.status == "done"
        (stopped,) = [entry for entry in logs if entry["event"] == "daemon_stopped"]
        assert stopped["returned_to_queue"] == 0

    def test_timeout_returns_event(
        self, stack: Stack, runners: list[EmbeddedRunner], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """An event still running at the timeout goes back to pending, its attempt undone."""
        event_id = stack.queue("snow", old_incident(stack))
        gate = gated(stack, monkeypatch)
        runner = start(runners, stack)
        assert gate.entered.wait(10)

        with capture_logs() as logs:
            runner.stop(timeout=0.05)
        returned = stack.rt.store.get_event(event_id)
        gate.opened.set()

        assert returned is not None
        assert returned.status == "pending"
        assert returned.attempts == 0
        assert returned.lease_until is None
        (stopped,) = [entry for entry in logs if entry["event"] == "daemon_stopped"]
        assert stopped["returned_to_queue"] == 1

    def test_stopped_runner_claims_nothing(
        self, stack: Stack, runners: list[EmbeddedRunner]
    ) -> None:
        """After stop(), a new event stays pending."""
        runner = start(runners, stack)
        runner.stop(timeout=5)

        event_id = stack.queue("snow", old_incident(stack))

        assert not runner.wait_idle(0.2)
        event = stack.rt.store.get_event(event_id)
        assert event is not None
        assert event.status == "pending"

    def test_waits_for_running_poll(
        self, stack: Stack, runners: list[EmbeddedRunner], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """stop() returns only after a poll that was running has finished with the store."""
        gate = Gate()
        connector = stack.rt.connectors["snow"]
        real_read = connector.changed_since

        def held_read(since: datetime | None) -> Iterator[NativeRecord]:
            gate.entered.set()
            assert gate.opened.wait(10), "the test never opened the gate"
            yield from real_read(since)

        monkeypatch.setattr(connector, "changed_since", held_read)
        runner = start(runners, stack)
        assert gate.entered.wait(10)
        threading.Timer(0.05, gate.opened.set).start()

        runner.stop(timeout=10)

        assert stack.rt.store.get_cursor("snow") is not None


class TestWaitIdle:
    def test_idle_when_queue_empty(self, stack: Stack, runners: list[EmbeddedRunner]) -> None:
        """wait_idle returns True at once when nothing is queued or running."""
        runner = start(runners, stack)

        assert runner.wait_idle(5)

    def test_false_while_pending(self, stack: Stack) -> None:
        """wait_idle returns False at the timeout while an event waits for a worker."""
        runner = EmbeddedRunner(stack.rt, workers=0, serve_http=False)
        stack.queue("snow", old_incident(stack))

        assert runner.wait_idle(0.1) is False

    def test_true_once_processed(self, stack: Stack, runners: list[EmbeddedRunner]) -> None:
        """wait_idle returns True once the workers have settled every queued event."""
        sys_id = old_incident(stack)
        runner = start(runners, stack)

        stack.queue("snow", sys_id)
        runner.wake()

        assert runner.wait_idle(10)
        (event,) = stack.rt.store.list_events()
        assert event.status == "done"


class TestWorkerFaults:
    def test_store_error_not_fatal(
        self, stack: Stack, runners: list[EmbeddedRunner], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A worker whose claim fails once (the database was locked) keeps working."""
        real_claim = stack.rt.store.claim_event
        failures = [StoreError("database is locked")]

        def claim_once_failing(now: datetime, lease_seconds: float) -> InboxRow | None:
            if failures:
                raise failures.pop()
            return real_claim(now, lease_seconds)

        monkeypatch.setattr(stack.rt.store, "claim_event", claim_once_failing)
        event_id = stack.queue("snow", old_incident(stack))

        with capture_logs() as logs:
            runner = start(runners, stack)
            idle = runner.wait_idle(10)

        assert idle
        event = stack.rt.store.get_event(event_id)
        assert event is not None
        assert event.status == "done"
        assert "worker_error" in [entry["event"] for entry in logs]


class TestServer:
    def test_serves_webhooks_port(self, stack: Stack, runners: list[EmbeddedRunner]) -> None:
        """With serve_http, the runner listens on a free port and serves /healthz."""
        runner = EmbeddedRunner(stack.rt)
        runners.append(runner)
        runner.start()

        with requests.Session() as session:
            session.trust_env = False
            response = session.get(f"http://127.0.0.1:{runner.port}/healthz", timeout=5)

        assert runner.port
        assert response.json() == {"status": "ok"}
