"""Tests for the per-connector limiter, the vendors' limit signals and their use by connectors."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from pydantic import ValidationError

from tests.conftest import Stack
from tierbridge.connectors.jira.client import request_scope
from tierbridge.core.connector_settings import RateLimitSettings
from tierbridge.core.errors import ThrottledError
from tierbridge.core.limits import (
    CONNECTOR_SCOPE,
    Limiter,
    SignalParser,
    Usage,
    dynamics_signal,
    jira_signal,
    parse_retry_after,
    salesforce_signal,
    servicenow_signal,
)
from tierbridge.core.poller import poll_connector

NOW = 1_714_547_742.0


class FakeTime:
    """A monotonic clock whose sleep advances it at once and records the wait."""

    def __init__(self) -> None:
        self.now = 5000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def make_limiter(
    fake: FakeTime, parser: SignalParser = servicenow_signal, **kwargs: Any
) -> Limiter:
    return Limiter(
        "test",
        parser,
        clock=fake.clock,
        wall_clock=lambda: NOW,
        sleep=fake.sleep,
        **kwargs,
    )


def send(limiter: Limiter, scope: str = CONNECTOR_SCOPE) -> None:
    with limiter.permit(scope):
        pass


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime()


class TestLimiter:
    def test_open_scope_no_wait(self, fake: FakeTime) -> None:
        """With no backoff, a permit is given at once."""
        limiter = make_limiter(fake)

        send(limiter)

        assert fake.slept == []

    def test_short_backoff_waited_out(self, fake: FakeTime) -> None:
        """A backoff within max_block_seconds is slept through before the request."""
        limiter = make_limiter(fake, max_block_seconds=5)
        limiter.defer(3, "test")

        send(limiter)

        assert fake.slept == [3]
        assert limiter.remaining_wait() == 0

    def test_long_backoff_raises(self, fake: FakeTime) -> None:
        """A backoff longer than max_block_seconds raises ThrottledError with the wait left."""
        limiter = make_limiter(fake, max_block_seconds=5)
        limiter.defer(30, "rule X")
        fake.now += 10

        with pytest.raises(ThrottledError, match="rule X") as caught:
            send(limiter)

        assert caught.value.retry_after == pytest.approx(20)
        assert caught.value.connector == "test"
        assert fake.slept == []

    def test_zero_block_always_raises(self, fake: FakeTime) -> None:
        """max_block_seconds=0 never sleeps: any pending wait raises."""
        limiter = make_limiter(fake, max_block_seconds=0)
        limiter.defer(0.5, "test")

        with pytest.raises(ThrottledError):
            send(limiter)

    def test_later_backoff_extends(self, fake: FakeTime) -> None:
        """A second, longer backoff extends the wait; a shorter one leaves it."""
        limiter = make_limiter(fake)
        limiter.defer(10, "first")
        limiter.defer(4, "shorter")
        assert limiter.remaining_wait() == 10

        limiter.defer(20, "longer")

        assert limiter.remaining_wait() == 20

    def test_scoped_backoff_spares_others(self, fake: FakeTime) -> None:
        """A backoff on one scope holds back that scope only."""
        limiter = make_limiter(fake, max_block_seconds=0)
        limiter.defer(30, "per issue", scope="issue:1")

        send(limiter, "issue:2")
        send(limiter)

        with pytest.raises(ThrottledError):
            send(limiter, "issue:1")

    def test_connector_backoff_covers_scopes(self, fake: FakeTime) -> None:
        """A connector-wide backoff holds back every scope."""
        limiter = make_limiter(fake, max_block_seconds=0)
        limiter.defer(30, "burst")

        with pytest.raises(ThrottledError):
            send(limiter, "issue:7")

    def test_concurrency_cap(self, fake: FakeTime) -> None:
        """At max_concurrency calls in flight, one more raises; a released slot is reused."""
        limiter = make_limiter(fake, max_concurrency=2, max_block_seconds=0)

        with (
            limiter.permit(),
            limiter.permit(),
            pytest.raises(ThrottledError, match="max_concurrency"),
        ):
            send(limiter)

        send(limiter)

    def test_concurrency_waits_for_slot(self) -> None:
        """A call at the cap waits until another call releases its slot."""
        limiter = Limiter("test", dynamics_signal, max_concurrency=1, max_block_seconds=5)
        entered = threading.Event()
        release = threading.Event()

        def hold() -> None:
            with limiter.permit():
                entered.set()
                release.wait(5)

        holder = threading.Thread(target=hold)
        holder.start()
        entered.wait(5)
        threading.Timer(0.05, release.set).start()

        started = time.perf_counter()
        send(limiter)
        holder.join(5)

        assert time.perf_counter() - started >= 0.04


class TestProbe:
    def hold_probe(
        self, limiter: Limiter, response: tuple[int, dict[str, str]] | None = None
    ) -> tuple[threading.Thread, threading.Event, threading.Event]:
        """Start a probe request that stays in flight until the returned event is set."""
        inside, release = threading.Event(), threading.Event()

        def probe() -> None:
            with limiter.permit():
                inside.set()
                release.wait(5)
                if response is not None:
                    limiter.observe(*response)

        thread = threading.Thread(target=probe)
        thread.start()
        inside.wait(5)
        return thread, release, inside

    def test_probe_goes_first(self, fake: FakeTime) -> None:
        """After a backoff, a second request waits for the first one's response."""
        limiter = make_limiter(fake)
        limiter.defer(3, "test")
        fake.now += 3
        probe, release, _inside = self.hold_probe(limiter)
        second = threading.Thread(target=send, args=(limiter,))

        second.start()
        second.join(0.05)
        waiting = second.is_alive()
        release.set()
        probe.join(5)
        second.join(5)

        assert waiting
        assert not second.is_alive()

    def test_throttled_probe_blocks_again(self, fake: FakeTime) -> None:
        """A probe that gets a 429 starts a new backoff for the requests behind it."""
        limiter = make_limiter(fake, max_block_seconds=5)
        limiter.defer(3, "test")
        fake.now += 3
        throttled = (429, {"Retry-After": "30"})
        probe, release, _inside = self.hold_probe(limiter, throttled)
        errors: list[Exception] = []

        def second() -> None:
            try:
                send(limiter)
            except ThrottledError as exc:
                errors.append(exc)

        behind = threading.Thread(target=second)
        behind.start()
        behind.join(0.05)
        release.set()
        probe.join(5)
        behind.join(5)

        assert len(errors) == 1
        assert errors[0].retry_after == pytest.approx(30)

    def test_busy_probe_zero_block_raises(self, fake: FakeTime) -> None:
        """With max_block_seconds=0, a request behind a probe in flight raises at once."""
        limiter = make_limiter(fake, max_block_seconds=0)
        limiter.defer(1, "test")
        fake.now += 1
        probe, release, _inside = self.hold_probe(limiter)

        with pytest.raises(ThrottledError, match="first request after a throttle"):
            send(limiter)
        release.set()
        probe.join(5)

    def test_clean_response_reopens(self, fake: FakeTime) -> None:
        """Once a probe gets an unthrottled response, requests run side by side again."""
        limiter = make_limiter(fake, max_block_seconds=0)
        limiter.defer(1, "test")
        fake.now += 1
        send(limiter)

        with limiter.permit():
            send(limiter)


class TestIsolation:
    def test_two_limiters_independent(self, fake: FakeTime) -> None:
        """A throttled limiter leaves another connector's limiter open."""
        throttled = make_limiter(fake, max_block_seconds=0)
        other = make_limiter(fake, max_block_seconds=0)
        throttled.defer(60, "storm")

        send(other)

        assert other.remaining_wait() == 0
        assert throttled.remaining_wait() == 60

    def test_blocked_thread_does_not_block_other(self) -> None:
        """While one connector's call sleeps in its limiter, another connector's calls go on."""
        fake = FakeTime()
        waking = threading.Event()
        asleep = threading.Event()

        def blocking_sleep(seconds: float) -> None:
            asleep.set()
            waking.wait(5)
            fake.now += seconds

        throttled = Limiter("snow", servicenow_signal, clock=fake.clock, sleep=blocking_sleep)
        other = Limiter("jsm", jira_signal)
        throttled.defer(3, "storm")
        worker = threading.Thread(target=send, args=(throttled,))
        worker.start()
        asleep.wait(5)

        started = time.perf_counter()
        for _ in range(20):
            send(other)
        elapsed = time.perf_counter() - started
        waking.set()
        worker.join(5)

        assert elapsed < 0.5
        assert not worker.is_alive()


class TestVendorSignals:
    def test_servicenow_retry_after(self, fake: FakeTime) -> None:
        """A ServiceNow 429 blocks the connector for Retry-After seconds."""
        limiter = make_limiter(fake)

        limiter.observe(429, {"Retry-After": "4", "X-RateLimit-Rule": "r1"})

        assert limiter.remaining_wait() == 4

    def test_servicenow_reset_time(self) -> None:
        """Without Retry-After, X-RateLimit-Reset (Unix time) gives the wait."""
        signal = servicenow_signal(429, {"X-RateLimit-Reset": str(int(NOW) + 40)}, b"", "c", NOW)

        assert signal.backoff is not None
        assert signal.backoff.seconds == 40
        assert signal.backoff.scope == CONNECTOR_SCOPE

    def test_servicenow_no_wait_header(self) -> None:
        """A 429 that names no wait gets the fallback wait."""
        signal = servicenow_signal(429, {}, b"", "c", NOW)

        assert signal.backoff is not None
        assert signal.backoff.seconds == 1.0

    def test_success_no_signal(self) -> None:
        """A 200 carries no backoff for ServiceNow, Jira or Dynamics."""
        for parser in (servicenow_signal, jira_signal, dynamics_signal):
            assert parser(200, {"Retry-After": "9"}, b"", "c", NOW).backoff is None

    def test_jira_issue_limit_scoped(self, fake: FakeTime) -> None:
        """Jira's per-issue write limit holds back only the issue written to."""
        limiter = make_limiter(fake, jira_signal, max_block_seconds=0)
        headers = {"Retry-After": "5", "RateLimit-Reason": "jira-per-issue-on-write"}

        limiter.observe(429, headers, scope="issue:10001")

        assert limiter.remaining_wait("issue:10001") == 5
        assert limiter.remaining_wait("issue:10002") == 0
        assert limiter.remaining_wait() == 0

    def test_jira_burst_whole_connector(self, fake: FakeTime) -> None:
        """Any other Jira limit holds back the whole connector."""
        limiter = make_limiter(fake, jira_signal)
        headers = {"Retry-After": "2", "RateLimit-Reason": "jira-burst-based"}

        limiter.observe(429, headers, scope="issue:10001")

        assert limiter.remaining_wait() == 2
        assert limiter.remaining_wait("issue:10002") == 2

    def test_jira_iso_reset(self) -> None:
        """Without Retry-After, Jira's ISO 8601 X-RateLimit-Reset gives the wait."""
        reset = datetime.fromtimestamp(NOW, UTC) + timedelta(minutes=2)
        headers = {"X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%MZ")}

        signal = jira_signal(429, headers, b"", CONNECTOR_SCOPE, NOW)

        assert signal.backoff is not None
        assert 60 < (signal.backoff.seconds or 0) <= 120

    def test_jira_request_scope(self) -> None:
        """Writes to one issue get an issue scope; reads and creates use the connector scope."""
        base = "https://site.example/rest"

        assert request_scope("PUT", f"{base}/api/3/issue/10001") == "issue:10001"
        assert request_scope("POST", f"{base}/api/3/issue/10001/transitions") == "issue:10001"
        assert request_scope("POST", f"{base}/servicedeskapi/request/L2-4/comment") == "issue:L2-4"
        assert request_scope("GET", f"{base}/api/3/issue/10001") == CONNECTOR_SCOPE
        assert request_scope("POST", f"{base}/servicedeskapi/request") == CONNECTOR_SCOPE

    def test_salesforce_limit_exceeded(self, fake: FakeTime) -> None:
        """403 REQUEST_LIMIT_EXCEEDED defers the connector for the recheck interval."""
        limiter = make_limiter(fake, salesforce_signal, allocation_recheck_seconds=600)
        body = (
            b'[{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]'
        )

        limiter.observe(403, {}, body)

        assert limiter.remaining_wait() == 600

    def test_salesforce_other_403_ignored(self, fake: FakeTime) -> None:
        """A 403 for another reason (a missing permission) is no throttle."""
        limiter = make_limiter(fake, salesforce_signal)
        body = b'[{"message": "no access", "errorCode": "INSUFFICIENT_ACCESS"}]'

        limiter.observe(403, {}, body)
        limiter.observe(403, {}, b"<html>not json</html>")

        assert limiter.remaining_wait() == 0

    def test_salesforce_usage_read(self) -> None:
        """Sforce-Limit-Info reports the allocation on any response."""
        signal = salesforce_signal(200, {"Sforce-Limit-Info": "api-usage=25/15000"}, b"", "c", NOW)

        assert signal.usage == Usage(25, 15000)
        assert signal.backoff is None

    def test_salesforce_ceiling_defers(self, fake: FakeTime) -> None:
        """Usage at the configured ceiling of the allocation defers the connector."""
        limiter = make_limiter(
            fake, salesforce_signal, allocation_ceiling=0.5, allocation_recheck_seconds=900
        )

        limiter.observe(200, {"Sforce-Limit-Info": "api-usage=7500/15000"})

        assert limiter.remaining_wait() == 900

    def test_salesforce_pacing_above_half(self, fake: FakeTime) -> None:
        """Above half the ceiling, calls are spaced by a day over the ceiling's calls."""
        limiter = make_limiter(
            fake, salesforce_signal, allocation_ceiling=0.8, max_block_seconds=60
        )

        limiter.observe(200, {"Sforce-Limit-Info": "api-usage=7000/15000"})
        send(limiter)
        send(limiter)

        assert fake.slept == [pytest.approx(86400 / 12000)]

    def test_salesforce_no_pacing_below_half(self, fake: FakeTime) -> None:
        """Below half the ceiling, calls are not spaced."""
        limiter = make_limiter(fake, salesforce_signal)

        limiter.observe(200, {"Sforce-Limit-Info": "api-usage=100/15000"})
        send(limiter)
        send(limiter)

        assert fake.slept == []

    def test_dynamics_retry_after(self, fake: FakeTime) -> None:
        """A Dataverse 429 blocks the connector for Retry-After seconds."""
        limiter = make_limiter(fake, dynamics_signal)

        limiter.observe(429, {"Retry-After": "8"})

        assert limiter.remaining_wait() == 8

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("7", 7.0),
            ("0.5", 0.5),
            ("-3", 0.0),
            (format_datetime(datetime.fromtimestamp(NOW + 30, UTC), usegmt=True), 30.0),
            ("soon", None),
            ("", None),
        ],
    )
    def test_parse_retry_after(self, value: str, expected: float | None) -> None:
        """Retry-After is seconds or an HTTP date, never negative; garbage gives None."""
        assert parse_retry_after(value, NOW) == expected


class TestSettings:
    def test_defaults(self) -> None:
        """Defaults: block up to 5 s, no concurrency cap, 80 % ceiling, 15 min recheck."""
        settings = RateLimitSettings()

        assert settings.max_block_seconds == 5.0
        assert settings.max_concurrency is None
        assert settings.allocation_ceiling == 0.8
        assert settings.allocation_recheck_seconds == 900.0

    @pytest.mark.parametrize(
        "values",
        [{"max_concurrency": 0}, {"allocation_ceiling": 1.5}, {"max_block_seconds": -1}],
    )
    def test_invalid_rejected(self, values: Mapping[str, Any]) -> None:
        """Out-of-range values are rejected when the config loads."""
        with pytest.raises(ValidationError):
            RateLimitSettings.model_validate(values)

    def test_from_settings(self, fake: FakeTime) -> None:
        """Limiter.from_settings applies max_block_seconds and max_concurrency."""
        settings = RateLimitSettings(max_block_seconds=0, max_concurrency=1)
        limiter = Limiter.from_settings("c", settings, dynamics_signal, clock=fake.clock)

        with limiter.permit(), pytest.raises(ThrottledError):
            send(limiter)


def limiter_of(stack: Stack, name: str) -> Limiter:
    """The limiter inside a connector of the stack."""
    limiter: Limiter = stack.rt.connectors[name]._client.limiter  # type: ignore[attr-defined]
    return limiter


@pytest.fixture
def throttled_stack(stack: Stack) -> Iterator[Stack]:
    yield stack
    stack.emulators.snow.faults.reset()
    stack.emulators.jira.faults.reset()


class TestConnectors:
    def test_servicenow_no_early_request(self, throttled_stack: Stack) -> None:
        """After a 429, no ServiceNow request is sent before its Retry-After has passed."""
        stack = throttled_stack
        incident = stack.open_incident()
        snow = stack.rt.connectors["snow"]
        faults = stack.emulators.snow.faults
        faults.storm(1, retry_after=30)
        before = faults.stats.requests

        with pytest.raises(ThrottledError) as first:
            snow.get_record(incident["sys_id"])
        with pytest.raises(ThrottledError) as second:
            snow.get_record(incident["sys_id"])

        assert first.value.status == 429
        assert second.value.status is None
        assert second.value.retry_after is not None
        assert 25 < second.value.retry_after <= 30
        assert faults.stats.requests - before == 1
        assert faults.stats.early == 0

    def test_jira_no_early_request(self, throttled_stack: Stack) -> None:
        """After a Jira burst 429, the connector sends nothing until Retry-After has passed."""
        stack = throttled_stack
        jsm = stack.rt.connectors["jsm"]
        faults = stack.emulators.jira.faults
        faults.storm(1, retry_after=30)
        before = faults.stats.requests

        with pytest.raises(ThrottledError):
            jsm.get_record("10000")
        with pytest.raises(ThrottledError, match="jira-burst-based"):
            jsm.get_record("10000")

        assert faults.stats.requests - before == 1

    def test_throttled_connector_spares_other(self, throttled_stack: Stack) -> None:
        """A ServiceNow storm leaves JSM calls unhindered, even with a ServiceNow call waiting."""
        stack = throttled_stack
        incident = stack.open_incident()
        fake = FakeTime()
        waking = threading.Event()
        asleep = threading.Event()

        def blocking_sleep(seconds: float) -> None:
            asleep.set()
            waking.wait(10)
            fake.now += seconds

        limiter_of(stack, "snow").use_time(clock=fake.clock, sleep=blocking_sleep)
        stack.emulators.snow.faults.storm(1, retry_after=2)
        snow = stack.rt.connectors["snow"]
        with pytest.raises(ThrottledError):
            snow.get_record(incident["sys_id"])
        results: list[str] = []
        worker = threading.Thread(
            target=lambda: results.append(snow.get_record(incident["sys_id"]).id)
        )
        worker.start()
        asleep.wait(10)

        started = time.perf_counter()
        found = stack.rt.connectors["jsm"].changed_since(None)
        list(found)
        elapsed = time.perf_counter() - started
        waking.set()
        worker.join(10)

        assert elapsed < 2
        assert results == [incident["sys_id"]]

    def test_deferred_poll_keeps_cursor(self, stack: Stack) -> None:
        """A poll of a connector deferred (as a spent allocation does) keeps its watermark."""
        mark = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
        stack.rt.store.set_cursor("snow", mark, ["x:1"])
        limiter_of(stack, "snow").defer(900, "daily API allocation spent")

        with pytest.raises(ThrottledError) as caught:
            poll_connector(stack.rt, "snow")

        cursor = stack.rt.store.get_cursor("snow")
        assert cursor is not None
        assert cursor.watermark == mark
        assert cursor.seen == ["x:1"]
        assert (caught.value.retry_after or 0) > 800

    def test_settings_reach_limiter(self, make_stack: Any) -> None:
        """rate_limit settings in the config shape the connector's limiter."""
        stack = make_stack(snow={"rate_limit": {"max_block_seconds": 0}})
        limiter = limiter_of(stack, "snow")
        limiter.defer(0.5, "test")

        with pytest.raises(ThrottledError, match=r"max_block_seconds \(0 s\)"):
            stack.rt.connectors["snow"].get_record("a" * 32)
