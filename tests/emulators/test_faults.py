"""Tests for the seeded fault injector and its middleware in both emulators."""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tierbridge.emulators._faults import Fault, FaultInjector, FaultPlan
from tierbridge.emulators.jira import JiraEmulator
from tierbridge.emulators.servicenow import DEFAULT_PASSWORDS, ServiceNowEmulator

SNOW_AUTH = ("svc.tierbridge", DEFAULT_PASSWORDS["svc.tierbridge"])
JIRA_AUTH = ("svc.tierbridge@example.com", "svc-api-token")


class FakeTime:
    """A monotonic clock that moves only when a test advances it."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def draws(injector: FaultInjector, count: int) -> list[tuple[float, Fault | None]]:
    return [injector.draw() for _ in range(count)]


class TestInjector:
    def test_same_seed_same_faults(self) -> None:
        """Two injectors with one seed and plan draw the same delays and faults."""
        plan = FaultPlan(latency_seconds=(0.0, 0.5), reset_rate=0.2, error_rate=0.3)

        first = draws(FaultInjector(plan, seed=7), 50)
        second = draws(FaultInjector(plan, seed=7), 50)

        assert first == second

    def test_other_seed_other_faults(self) -> None:
        """Another seed draws another sequence."""
        plan = FaultPlan(reset_rate=0.2, error_rate=0.3)

        assert draws(FaultInjector(plan, seed=1), 50) != draws(FaultInjector(plan, seed=2), 50)

    def test_rates_are_respected(self) -> None:
        """Over many requests, resets and errors come near their rates; statuses come from the list."""
        plan = FaultPlan(reset_rate=0.1, error_rate=0.2, error_statuses=(502, 503))
        injector = FaultInjector(plan, seed=3)

        faults = [fault for _delay, fault in draws(injector, 2000)]

        resets = sum(1 for f in faults if f is not None and f.kind == "reset")
        errors = [f.status for f in faults if f is not None and f.kind == "error"]
        assert 150 <= resets <= 250
        assert 300 <= len(errors) <= 500
        assert set(errors) == {502, 503}
        assert injector.stats.resets == resets
        assert injector.stats.errors == len(errors)

    def test_latency_within_range(self) -> None:
        """Every delay lies in the configured range."""
        injector = FaultInjector(FaultPlan(latency_seconds=(0.01, 0.02)), seed=4)

        delays = [delay for delay, _fault in draws(injector, 100)]

        assert all(0.01 <= delay <= 0.02 for delay in delays)
        assert injector.stats.delayed == 100

    def test_no_plan_no_faults(self) -> None:
        """The default plan injects nothing."""
        injector = FaultInjector()

        assert draws(injector, 20) == [(0.0, None)] * 20

    def test_storm_is_consecutive(self) -> None:
        """A storm responds to exactly the next N requests with 429 and its Retry-After."""
        injector = FaultInjector(seed=0)
        injector.storm(3, retry_after=2, reason="jira-burst-based")

        faults = [fault for _delay, fault in draws(injector, 5)]

        storm = Fault("throttle", 429, 2, "jira-burst-based")
        assert faults == [storm, storm, storm, None, None]
        assert injector.stats.throttled == 3

    def test_storm_at_construction(self) -> None:
        """A plan's storm starts with the first request."""
        injector = FaultInjector(FaultPlan(storm_count=2, storm_retry_after=5))

        faults = [fault for _delay, fault in draws(injector, 3)]

        assert [f.status if f else None for f in faults] == [429, 429, None]
        assert faults[0] is not None
        assert faults[0].retry_after == 5

    def test_early_requests_counted(self) -> None:
        """Requests arriving before a served 429's Retry-After ends count as early."""
        clock = FakeTime()
        injector = FaultInjector(clock=clock)
        injector.storm(1, retry_after=2)

        injector.draw()
        clock.advance(1.5)
        injector.draw()
        clock.advance(0.6)
        injector.draw()

        assert injector.stats.early == 1
        assert injector.stats.max_wait_seconds == pytest.approx(1.5)

    def test_patient_client_not_early(self) -> None:
        """A client that waits out every Retry-After of a storm has no early request."""
        clock = FakeTime()
        injector = FaultInjector(clock=clock)
        injector.storm(4, retry_after=3)

        for _ in range(5):
            injector.draw()
            clock.advance(3.0)

        assert injector.stats.early == 0
        assert injector.stats.max_wait_seconds == pytest.approx(3.0)

    def test_configure_at_run_time(self) -> None:
        """A new plan applies from the next request on."""
        injector = FaultInjector(seed=5)
        assert injector.draw() == (0.0, None)

        injector.configure(FaultPlan(error_rate=1.0, error_statuses=(503,)))

        assert injector.draw() == (0.0, Fault("error", 503))

    def test_reset_restores_construction(self) -> None:
        """reset() brings back the first plan, the seed, no storm and zero counts."""
        plan = FaultPlan(error_rate=0.5)
        injector = FaultInjector(plan, seed=9)
        before = draws(injector, 10)
        injector.configure(FaultPlan(reset_rate=1.0))
        injector.storm(5)

        injector.reset()

        assert draws(injector, 10) == before
        assert injector.stats.requests == 10
        assert injector.stats.throttled == 0

    @pytest.mark.parametrize(
        "kwargs",
        [
            {"latency_seconds": (0.2, 0.1)},
            {"latency_seconds": (-1.0, 0.1)},
            {"reset_rate": 0.6, "error_rate": 0.6},
            {"error_rate": -0.1},
            {"error_rate": 0.1, "error_statuses": ()},
            {"storm_count": -1},
        ],
    )
    def test_invalid_plan_rejected(self, kwargs: dict[str, object]) -> None:
        """Impossible plans raise ValueError."""
        with pytest.raises(ValueError, match=r"\S"):
            FaultPlan(**kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def tls_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("faults-tls")


@pytest.fixture(scope="module")
def snow(tls_dir: Path) -> Iterator[ServiceNowEmulator]:
    with ServiceNowEmulator(tls_dir=tls_dir, seed=3) as em:
        yield em
        gc.collect()


@pytest.fixture(scope="module")
def jira(tls_dir: Path) -> Iterator[JiraEmulator]:
    with JiraEmulator(tls_dir=tls_dir, fault_seed=11) as em:
        yield em
        gc.collect()


@pytest.fixture
def session() -> Iterator[requests.Session]:
    http = requests.Session()
    http.trust_env = False
    yield http
    http.close()


def snow_get(session: requests.Session, em: ServiceNowEmulator) -> requests.Response:
    url = f"{em.base_url}/api/now/table/incident?sysparm_limit=1"
    return session.get(url, auth=SNOW_AUTH, verify=str(em.ca_cert), timeout=5)


def jira_get(session: requests.Session, em: JiraEmulator) -> requests.Response:
    url = f"{em.base_url}/rest/api/3/myself"
    return session.get(url, auth=JIRA_AUTH, verify=str(em.ca_cert), timeout=5)


class TestServiceNowMiddleware:
    @pytest.fixture(autouse=True)
    def _clean(self, snow: ServiceNowEmulator) -> None:
        snow.reset()

    def test_storm_headers(self, snow: ServiceNowEmulator, session: requests.Session) -> None:
        """A storm responds with the Table API's 429: envelope, Retry-After and rate-limit headers."""
        snow.faults.storm(1, retry_after=7)

        throttled = snow_get(session, snow)
        after = snow_get(session, snow)

        assert throttled.status_code == 429
        assert throttled.headers["Retry-After"] == "7"
        assert throttled.headers["X-RateLimit-Rule"]
        assert int(throttled.headers["X-RateLimit-Reset"]) >= int(time.time()) + 6
        assert throttled.json()["error"]["message"] == "Rate limit exceeded"
        assert after.status_code == 200
        assert snow.faults.stats.early == 1

    def test_injected_5xx(self, snow: ServiceNowEmulator, session: requests.Session) -> None:
        """An error fault responds with its status and the error envelope."""
        snow.faults.configure(FaultPlan(error_rate=1.0, error_statuses=(503,)))

        response = snow_get(session, snow)

        assert response.status_code == 503
        assert response.json()["status"] == "failure"

    def test_reset_drops_connection(
        self, snow: ServiceNowEmulator, session: requests.Session
    ) -> None:
        """A reset closes the connection with no response at all."""
        snow.faults.configure(FaultPlan(reset_rate=1.0))

        with pytest.raises(requests.ConnectionError):
            snow_get(session, snow)

        assert snow.faults.stats.resets == 1

    def test_latency_delays_answer(
        self, snow: ServiceNowEmulator, session: requests.Session
    ) -> None:
        """Latency delays each response by the drawn delay."""
        snow.faults.configure(FaultPlan(latency_seconds=(0.05, 0.05)))

        started = time.perf_counter()
        response = snow_get(session, snow)

        assert response.status_code == 200
        assert time.perf_counter() - started >= 0.05

    def test_reset_clears_faults(self, snow: ServiceNowEmulator, session: requests.Session) -> None:
        """Emulator reset() ends a pending storm."""
        snow.faults.storm(3)

        snow.reset()

        assert snow_get(session, snow).status_code == 200


class TestJiraMiddleware:
    @pytest.fixture(autouse=True)
    def _clean(self, jira: JiraEmulator) -> None:
        jira.reset()

    def test_storm_headers(self, jira: JiraEmulator, session: requests.Session) -> None:
        """A storm answers with Jira's 429: Retry-After, RateLimit-Reason and an ISO reset."""
        jira.faults.storm(2, retry_after=3, reason="jira-per-issue-on-write")

        first = jira_get(session, jira)
        second = jira_get(session, jira)
        third = jira_get(session, jira)

        assert [first.status_code, second.status_code, third.status_code] == [429, 429, 200]
        assert first.headers["Retry-After"] == "3"
        assert first.headers["RateLimit-Reason"] == "jira-per-issue-on-write"
        assert first.headers["X-RateLimit-Reset"].endswith("Z")
        assert first.json()["errorMessages"] == ["Rate limit exceeded."]

    def test_default_reason_burst(self, jira: JiraEmulator, session: requests.Session) -> None:
        """A storm without a reason reports the burst limit."""
        jira.faults.storm(1)

        assert jira_get(session, jira).headers["RateLimit-Reason"] == "jira-burst-based"

    def test_injected_5xx(self, jira: JiraEmulator, session: requests.Session) -> None:
        """An error fault answers with Jira's errorMessages body."""
        jira.faults.configure(FaultPlan(error_rate=1.0, error_statuses=(502,)))

        response = jira_get(session, jira)

        assert response.status_code == 502
        assert response.json()["errorMessages"]

    def test_reset_drops_connection(self, jira: JiraEmulator, session: requests.Session) -> None:
        """A reset closes the connection with no response at all."""
        jira.faults.configure(FaultPlan(reset_rate=1.0))

        with pytest.raises(requests.ConnectionError):
            jira_get(session, jira)


def test_construction_plan_applies(tls_dir: Path) -> None:
    """A plan given at construction applies from the first request."""
    plan = FaultPlan(error_rate=1.0, error_statuses=(500,))
    http = requests.Session()
    http.trust_env = False
    with JiraEmulator(tls_dir=tls_dir, faults=plan) as em:
        status = jira_get(http, em).status_code
        http.close()
        gc.collect()

    assert status == 500
