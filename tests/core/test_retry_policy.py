"""Tests for the retry policy's deadline and jitter, and the expired-token replay rule."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import requests
import tenacity
from jira import JIRAError
from structlog.testing import capture_logs

from tests.emulators.servicenow.support import FakeClock
from tierbridge.connectors.jira.client import translate_errors as jira_translate
from tierbridge.connectors.servicenow.connector import ServiceNowConnector
from tierbridge.connectors.servicenow.settings import ServiceNowSettings
from tierbridge.connectors.servicenow.translate import translate_errors as snow_translate
from tierbridge.core.errors import (
    AuthenticationError,
    ConnectorError,
    NotFoundError,
    RejectedError,
    RetryableError,
    ThrottledError,
)
from tierbridge.core.retry import CallPolicy, replay_allowed
from tierbridge.emulators.servicenow import DEFAULT_PASSWORDS, ServiceNowEmulator

CLIENT_ID = "tb-retry-client"
CLIENT_SECRET = "tb-retry-client-secret"


class FakeMonotonic:
    """Stands in for tenacity's clock; the policy's sleep advances it."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def failing(error: Exception) -> Any:
    calls: list[int] = []

    def call() -> None:
        calls.append(1)
        raise error

    call.calls = calls  # type: ignore[attr-defined]
    return call


def transient() -> RetryableError:
    return RetryableError("HTTP 503", connector="c", operation="op", status=503)


class TestPolicy:
    def test_deadline_stops_retries(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """No attempt starts after the total deadline, however many attempts remain."""
        fake = FakeMonotonic()
        monkeypatch.setattr(tenacity, "time", SimpleNamespace(monotonic=fake.monotonic))
        policy = CallPolicy(attempts=100, max_wait_seconds=4, deadline_seconds=10, sleep=fake.sleep)
        call = failing(transient())

        with pytest.raises(RetryableError):
            policy.call(call)

        assert fake.now - fake.slept[-1] < 10
        assert len(call.calls) < 100

    def test_waits_full_jitter_capped(self) -> None:
        """Waits are drawn from 0 to the capped exponential, so they vary and stay under the cap."""
        slept: list[float] = []
        policy = CallPolicy(
            attempts=40, max_wait_seconds=2, deadline_seconds=1e9, sleep=slept.append
        )

        with pytest.raises(RetryableError):
            policy.call(failing(transient()))

        assert len(slept) == 39
        assert all(0 <= wait <= 2 for wait in slept)
        assert len({round(wait, 6) for wait in slept}) > 30

    def test_throttle_waits_vendor_time(self) -> None:
        """A 429 within the cap is retried no sooner than the vendor asked."""
        slept: list[float] = []
        error = ThrottledError("429", retry_after=3, connector="c", operation="op")

        with pytest.raises(ThrottledError):
            CallPolicy(attempts=3, max_wait_seconds=5, sleep=slept.append).call(failing(error))

        assert slept
        assert all(wait >= 3 for wait in slept)

    def test_long_throttle_left_to_inbox(self) -> None:
        """A 429 asking for more than the cap is not retried in the call."""
        error = ThrottledError("429", retry_after=60, connector="c", operation="op")
        call = failing(error)

        with pytest.raises(ThrottledError):
            CallPolicy(sleep=lambda _s: None).call(call)

        assert len(call.calls) == 1

    @pytest.mark.parametrize(
        "error",
        [
            AuthenticationError("401", connector="c", operation="op", status=401),
            RejectedError("400", connector="c", operation="op", status=400),
            NotFoundError("404", connector="c", operation="op", status=404),
        ],
    )
    def test_permanent_not_retried(self, error: ConnectorError) -> None:
        """Permanent and not-found errors are raised after one attempt."""
        call = failing(error)

        with pytest.raises(type(error)):
            CallPolicy(sleep=lambda _s: None).call(call)

        assert len(call.calls) == 1


def http_error(status: int, method: str = "GET", headers: dict[str, str] | None = None) -> Any:
    response = requests.Response()
    response.status_code = status
    response.headers.update(headers or {})
    response._content = b"{}"
    response.request = requests.Request(method, "https://x.example/api").prepare()
    return requests.HTTPError(f"HTTP {status}", response=response)


def snow_class(error: Exception) -> type[Exception]:
    try:
        with snow_translate("snow", "op", table="incident"):
            raise error
    except ConnectorError as exc:
        return type(exc)
    raise AssertionError("nothing raised")


def jira_class(error: Exception) -> type[Exception]:
    try:
        with jira_translate("jsm", "op"):
            raise error
    except ConnectorError as exc:
        return type(exc)
    raise AssertionError("nothing raised")


class TestClassification:
    @pytest.mark.parametrize(
        ("status", "expected"),
        [
            (429, ThrottledError),
            (500, RetryableError),
            (503, RetryableError),
            (400, RejectedError),
            (404, NotFoundError),
            (401, AuthenticationError),
        ],
    )
    def test_both_connectors_agree(self, status: int, expected: type[Exception]) -> None:
        """Each connector's error translation sorts statuses into the same classes."""
        assert snow_class(http_error(status)) is expected
        response = http_error(status).response
        assert jira_class(JIRAError(status_code=status, response=response)) is expected

    def test_timeouts_retryable(self) -> None:
        """Timeouts and resets are retryable for both connectors."""
        for error in (requests.ReadTimeout("slow"), requests.ConnectionError("reset")):
            assert issubclass(snow_class(error), RetryableError)
            assert issubclass(jira_class(error), RetryableError)


class TestReplayRule:
    @pytest.mark.parametrize(
        ("method", "allowed"),
        [
            ("GET", True),
            ("head", True),
            ("PUT", True),
            ("DELETE", True),
            ("OPTIONS", True),
            ("POST", False),
            ("PATCH", False),
            (None, False),
        ],
    )
    def test_replay_allowed(self, method: str | None, allowed: bool) -> None:
        """Only idempotent methods may be replayed after a rejected token."""
        assert replay_allowed(method) is allowed


@pytest.fixture(scope="module")
def oauth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceNowEmulator]:
    clients = {CLIENT_ID: (CLIENT_SECRET, "svc.tierbridge")}
    tls_dir = tmp_path_factory.mktemp("retry-oauth-tls")
    with ServiceNowEmulator(tls_dir=tls_dir, oauth_clients=clients) as running:
        yield running
        gc.collect()


@pytest.fixture
def snow_clock(oauth_server: ServiceNowEmulator) -> FakeClock:
    clock = FakeClock()
    oauth_server.reset()
    oauth_server.state.clock = clock
    return clock


def settings_for(
    em: ServiceNowEmulator, tmp_path: Path, auth: dict[str, Any]
) -> ServiceNowSettings:
    return ServiceNowSettings.model_validate(
        {
            "system": "servicenow",
            "base_url": em.base_url,
            "mapping": tmp_path / "servicenow.yaml",
            "auth": auth,
            "ca_bundle": em.ca_cert,
            "timeout_seconds": 5,
        }
    )


@pytest.fixture
def oauth_connector(
    oauth_server: ServiceNowEmulator,
    snow_clock: FakeClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[ServiceNowConnector]:
    monkeypatch.setenv("TB_TEST_RETRY_CLIENT_SECRET", CLIENT_SECRET)
    auth = {
        "type": "oauth_client_credentials",
        "client_id": CLIENT_ID,
        "client_secret": {"env": "TB_TEST_RETRY_CLIENT_SECRET"},
    }
    connector = ServiceNowConnector("snow", settings_for(oauth_server, tmp_path, auth))
    yield connector
    connector.close()


def calls_in(logs: list[dict[str, Any]]) -> list[tuple[str, str, int | None]]:
    return [(e["method"], e["path"], e["status"]) for e in logs if e["event"] == "api_call"]


class TestTokenReplay:
    def test_expired_token_replayed_once(
        self, oauth_connector: ServiceNowConnector, snow_clock: FakeClock
    ) -> None:
        """A GET rejected for an expired token fetches a new token and is sent once more."""
        created = oauth_connector.create_record({"short_description": "Token test"}, "tb-1")
        snow_clock.advance(2 * 3600)

        with capture_logs() as logs:
            record = oauth_connector.get_record(created.id)

        assert record.id == created.id
        assert calls_in(logs) == [
            ("GET", "/api/now/table/incident/{sys_id}", 401),
            ("POST", "/oauth_token.do", 200),
            ("GET", "/api/now/table/incident/{sys_id}", 200),
        ]

    def test_write_not_replayed(
        self, oauth_connector: ServiceNowConnector, snow_clock: FakeClock
    ) -> None:
        """A PATCH rejected for an expired token is not resent; it fails as retryable."""
        created = oauth_connector.create_record({"short_description": "Token test"}, "tb-2")
        snow_clock.advance(2 * 3600)

        with capture_logs() as logs, pytest.raises(RetryableError) as caught:
            oauth_connector.update_record(created.id, {"short_description": "Changed"})

        assert caught.value.status == 401
        assert [c for c in calls_in(logs) if c[0] == "PATCH"] == [
            ("PATCH", "/api/now/table/incident/{sys_id}", 401)
        ]

    def test_write_after_rejection_new_token(
        self, oauth_connector: ServiceNowConnector, snow_clock: FakeClock
    ) -> None:
        """The rejected token is dropped, so the retried write carries a fresh one."""
        created = oauth_connector.create_record({"short_description": "Token test"}, "tb-3")
        snow_clock.advance(2 * 3600)
        with pytest.raises(RetryableError):
            oauth_connector.update_record(created.id, {"short_description": "Changed"})

        updated = oauth_connector.update_record(created.id, {"short_description": "Changed"})

        assert updated.fields["short_description"] == "Changed"

    def test_second_rejection_final(
        self, oauth_connector: ServiceNowConnector, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A replay rejected again raises AuthenticationError; there is no third try."""
        monkeypatch.setattr("tierbridge.emulators.servicenow.guards.TOKEN_LIFETIME_SECONDS", -5)

        with capture_logs() as logs, pytest.raises(AuthenticationError):
            oauth_connector.get_record("a" * 32)

        gets = [c for c in calls_in(logs) if c[0] == "GET"]
        assert [status for _m, _p, status in gets] == [401, 401]

    def test_basic_auth_not_replayed(
        self,
        oauth_server: ServiceNowEmulator,
        snow_clock: FakeClock,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """Static credentials rejected once are not sent again."""
        monkeypatch.setenv("TB_TEST_RETRY_PASSWORD", "not-" + DEFAULT_PASSWORDS["svc.tierbridge"])
        auth = {
            "type": "basic",
            "username": "svc.tierbridge",
            "password": {"env": "TB_TEST_RETRY_PASSWORD"},
        }
        connector = ServiceNowConnector("snow", settings_for(oauth_server, tmp_path, auth))

        with capture_logs() as logs, pytest.raises(AuthenticationError):
            connector.get_record("a" * 32)
        connector.close()

        assert len(calls_in(logs)) == 1
