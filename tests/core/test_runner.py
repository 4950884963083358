"""Tests for `EmbeddedRunner`: workers, draining on stop, and wait_idle."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
import requests
from structlog.testing import capture_logs

from tests.conftest import Stack
from tests.core.test_server import snow_headers, snow_notice
from tierbridge.core.connector import NativeRecord
from tierbridge.core.errors import StoreError
from tierbridge.core.runner import EmbeddedRunner, WakeUps
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


class ClaimCounter:
    """Counts the claims of a runner's workers. `reached(n)` waits for the n-th one."""

    def __init__(self, stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        self._condition = threading.Condition()
        self._claim = stack.rt.store.claim_event
        monkeypatch.setattr(stack.rt.store, "claim_event", self.claim)

    def claim(self, now: datetime, lease_seconds: float) -> InboxRow | None:
        event = self._claim(now, lease_seconds)
        with self._condition:
            self.count += 1
            self._condition.notify_all()
        return event

    def reached(self, count: int, timeout: float = 10) -> bool:
        with self._condition:
            return self._condition.wait_for(lambda: self.count >= count, timeout)


def idle_runner(runners: list[EmbeddedRunner], stack: Stack, workers: int) -> EmbeddedRunner:
    """Start a runner whose idle workers claim again only when woken (or after a minute)."""
    runner = EmbeddedRunner(stack.rt, workers=workers, serve_http=False, idle_wait_seconds=60)
    runners.append(runner)
    return runner.start()


class TestWakeUps:
    def test_wake_one_worker(
        self, stack: Stack, runners: list[EmbeddedRunner], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """One wake-up makes one of four idle workers claim, not all four."""
        claims = ClaimCounter(stack, monkeypatch)
        runner = idle_runner(runners, stack, workers=4)
        assert claims.reached(4)  # each worker's first claim, which found nothing

        runner.wake()

        assert claims.reached(5)
        assert not claims.reached(6, timeout=0.5)

    def test_wake_per_event(
        self, stack: Stack, runners: list[EmbeddedRunner], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """wake(2) makes two idle workers claim."""
        claims = ClaimCounter(stack, monkeypatch)
        runner = idle_runner(runners, stack, workers=4)
        assert claims.reached(4)

        runner.wake(2)

        assert claims.reached(6)
        assert not claims.reached(7, timeout=0.5)

    def test_woken_worker_handles_event(
        self, stack: Stack, runners: list[EmbeddedRunner], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The woken worker handles the new event, then claims once more and finds nothing."""
        sys_id = old_incident(stack)
        claims = ClaimCounter(stack, monkeypatch)
        runner = idle_runner(runners, stack, workers=4)
        assert claims.reached(4)

        event_id = stack.queue("snow", sys_id)
        runner.wake()

        assert runner.wait_idle(10)
        assert claims.reached(6)
        assert not claims.reached(7, timeout=0.5)
        event = stack.rt.store.get_event(event_id)
        assert event is not None
        assert event.status == "done"

    def test_idle_timeout_claims_without_wake(
        self, stack: Stack, runners: list[EmbeddedRunner], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """An idle worker claims again after its idle wait, so an event stored without a
        wake-up (a retry falling due) still runs."""
        sys_id = old_incident(stack)
        claims = ClaimCounter(stack, monkeypatch)
        runner = EmbeddedRunner(stack.rt, serve_http=False, idle_wait_seconds=0.05)
        runners.append(runner.start())
        assert claims.reached(1)

        event_id = stack.queue("snow", sys_id)

        assert runner.wait_idle(10)
        event = stack.rt.store.get_event(event_id)
        assert event is not None
        assert event.status == "done"

    def test_stop_wakes_every_worker(
        self, stack: Stack, runners: list[EmbeddedRunner], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """stop() ends every idle worker at once, not after its idle wait."""
        claims = ClaimCounter(stack, monkeypatch)
        runner = idle_runner(runners, stack, workers=4)
        assert claims.reached(4)

        started = time.monotonic()
        runner.stop(timeout=5)

        assert time.monotonic() - started < 4
        assert not [thread.name for thread in runner._threads if thread.is_alive()]

    def test_webhook_wakes_per_stored_event(
        self, stack: Stack, runners: list[EmbeddedRunner], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A webhook wakes one worker per newly stored event, and a redelivery none."""
        woken: list[int] = []
        runner = EmbeddedRunner(stack.rt, workers=0)
        monkeypatch.setattr(runner, "wake", woken.append)
        runners.append(runner.start())
        body = snow_notice()
        url = f"http://127.0.0.1:{runner.port}/webhooks/snow"

        with requests.Session() as session:
            session.trust_env = False
            for _ in range(2):
                # Connection: close, so that the server keeps no connection open at the end.
                headers = {**snow_headers(body), "Connection": "close"}
                response = session.post(url, data=body, headers=headers, timeout=10)
                assert response.status_code == 200

        assert woken == [1]


class TestWakeUpCounter:
    def test_release_then_wait(self) -> None:
        """A wake-up released before anyone waits is kept for the next wait."""
        wakeups = WakeUps(limit=4)

        wakeups.release()

        assert wakeups.wait(0)
        assert not wakeups.wait(0)

    def test_kept_wake_ups_capped(self) -> None:
        """No more wake-ups than `limit` are kept."""
        wakeups = WakeUps(limit=2)

        wakeups.release(5)

        assert [wakeups.wait(0) for _ in range(3)] == [True, True, False]

    def test_close_ends_every_wait(self) -> None:
        """After close(), every wait returns True at once, also with no wake-up kept."""
        wakeups = WakeUps(limit=1)

        wakeups.close()

        assert [wakeups.wait(60) for _ in range(3)] == [True, True, True]


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
