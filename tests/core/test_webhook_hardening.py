"""Tests for webhook intake hardening: constant-time signatures, replay window, media types."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from structlog.testing import capture_logs

from tests.conftest import JIRA_WEBHOOK_SECRET, SNOW_WEBHOOK_SECRET, Stack, StackFactory
from tierbridge.core.errors import WebhookAuthError, WebhookPayloadError
from tierbridge.core.server import MAX_BODY_BYTES, create_app
from tierbridge.core.webhook_auth import (
    FUTURE_SKEW,
    accepted_media_types,
    body_epoch_ms,
    check_replay_window,
    media_type_problem,
    signatures_match,
)

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
DAY = 24 * 3600.0


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def jira_body(sent_at: datetime | None = NOW, issue_id: str = "10000") -> bytes:
    body: dict[str, Any] = {
        "webhookEvent": "jira:issue_updated",
        "issue": {
            "id": issue_id,
            "key": "L2-1",
            "fields": {"updated": "2026-03-02T10:30:00.000+0100"},
        },
    }
    if sent_at is not None:
        body["timestamp"] = epoch_ms(sent_at)
    return json.dumps(body).encode()


def jira_headers(body: bytes, delivery_id: str = "j-1") -> dict[str, str]:
    digest = hmac.new(JIRA_WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-Hub-Signature": f"sha256={digest}",
        "X-Atlassian-Webhook-Identifier": delivery_id,
    }


def snow_body(sys_id: str = "a" * 32) -> bytes:
    notice = {
        "event": "incident.updated",
        "table": "incident",
        "sys_id": sys_id,
        "sys_updated_on": "2020-01-01 00:00:00",
        "sys_mod_count": "3",
    }
    return json.dumps(notice).encode()


def snow_headers(body: bytes, secret: str = SNOW_WEBHOOK_SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return {
        "Content-Type": "application/json",
        "X-Snow-Signature": base64.b64encode(digest).decode(),
        "X-Snow-Delivery-Id": "d-1",
    }


@pytest.fixture
def pinned(stack: Stack) -> Stack:
    """The stack with the daemon's clock pinned to NOW."""
    stack.rt.clock = lambda: NOW
    return stack


@pytest.fixture
def client(pinned: Stack) -> Iterator[TestClient]:
    with TestClient(create_app(pinned.rt)) as test_client:
        yield test_client


def assert_no_trace(stack: Stack) -> None:
    assert stack.rt.store.list_events(limit=100) == []
    assert stack.rt.store.sync_log(limit=100) == []


def rejections(logs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [entry for entry in logs if entry["event"] == "webhook_rejected"]


class TestConstantTime:
    def test_connectors_use_compare_digest(
        self, stack: Stack, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Both connectors compare signatures with hmac.compare_digest, right or wrong."""
        calls: list[str] = []
        real = hmac.compare_digest

        def spy(a: Any, b: Any) -> bool:
            calls.append("called")
            return real(a, b)

        monkeypatch.setattr(hmac, "compare_digest", spy)
        snow, jsm = stack.rt.connectors["snow"], stack.rt.connectors["jsm"]
        body = jira_body()

        snow.verify_webhook(snow_headers(snow_body()), snow_body())
        jsm.verify_webhook(jira_headers(body), body)
        with pytest.raises(WebhookAuthError):
            snow.verify_webhook(snow_headers(snow_body(), secret="wrong"), snow_body())
        with pytest.raises(WebhookAuthError):
            jsm.verify_webhook(jira_headers(body), body + b" ")

        assert len(calls) == 4

    def test_signatures_match(self) -> None:
        """signatures_match compares text exactly, non-ASCII included."""
        assert signatures_match("abc", "abc")
        assert not signatures_match("abc", "abd")
        assert not signatures_match("abc", "ab")
        assert not signatures_match("abc", "abç")


class TestReplayWindow:
    def test_fresh_delivery_accepted(self, pinned: Stack, client: TestClient) -> None:
        """A Jira delivery signed a minute ago is stored."""
        body = jira_body(NOW - timedelta(minutes=1))

        response = client.post("/webhooks/jsm", content=body, headers=jira_headers(body))

        assert response.status_code == 200
        assert len(pinned.rt.store.list_events()) == 1

    def test_old_delivery_rejected(self, pinned: Stack, client: TestClient) -> None:
        """A Jira delivery signed more than 24 h ago is rejected with 401 and the reason."""
        body = jira_body(NOW - timedelta(hours=25))

        with capture_logs() as logs:
            response = client.post("/webhooks/jsm", content=body, headers=jira_headers(body))

        assert response.status_code == 401
        assert "replay_window_seconds" in response.json()["error"]
        assert len(rejections(logs)) == 1
        assert_no_trace(pinned)

    def test_future_delivery_rejected(self, pinned: Stack, client: TestClient) -> None:
        """A delivery signed further ahead than the clock skew allowance is rejected."""
        body = jira_body(NOW + FUTURE_SKEW + timedelta(seconds=5))

        response = client.post("/webhooks/jsm", content=body, headers=jira_headers(body))

        assert response.status_code == 401
        assert "future" in response.json()["error"]
        assert_no_trace(pinned)

    def test_missing_timestamp_rejected(self, pinned: Stack, client: TestClient) -> None:
        """A signed Jira body without its timestamp is rejected."""
        body = jira_body(None)

        response = client.post("/webhooks/jsm", content=body, headers=jira_headers(body))

        assert response.status_code == 401
        assert "timestamp" in response.json()["error"]
        assert_no_trace(pinned)

    def test_window_configurable(self, make_stack: StackFactory) -> None:
        """webhook.replay_window_seconds shortens the window."""
        webhook = {"secret": {"env": "TIERBRIDGE_JIRA_WEBHOOK_SECRET"}, "replay_window_seconds": 60}
        stack = make_stack(jsm={"webhook": webhook})
        stack.rt.clock = lambda: NOW
        body = jira_body(NOW - timedelta(minutes=2))

        with TestClient(create_app(stack.rt)) as client:
            response = client.post("/webhooks/jsm", content=body, headers=jira_headers(body))

        assert response.status_code == 401
        assert "(60 s)" in response.json()["error"]
        assert_no_trace(stack)

    def test_servicenow_has_no_window(self, pinned: Stack, client: TestClient) -> None:
        """ServiceNow notices sign no time, so an old change is still accepted (dedupe only)."""
        body = snow_body()

        first = client.post("/webhooks/snow", content=body, headers=snow_headers(body))
        again = client.post("/webhooks/snow", content=body, headers=snow_headers(body))

        assert first.status_code == 200
        assert again.json() == {"accepted": 0, "duplicates": 1}
        assert len(pinned.rt.store.list_events()) == 1

    def test_window_checked_after_signature(self) -> None:
        """An unsigned time is never read: the check runs on a verified body only."""
        with pytest.raises(WebhookAuthError, match="older"):
            check_replay_window(
                "jira", {}, jira_body(NOW - timedelta(days=2)), now=NOW, window_seconds=DAY
            )

    @pytest.mark.parametrize(
        ("offset", "accepted"),
        [
            (timedelta(hours=-24), True),
            (timedelta(hours=-24, seconds=-1), False),
            (FUTURE_SKEW, True),
            (FUTURE_SKEW + timedelta(seconds=1), False),
        ],
    )
    def test_window_edges(self, offset: timedelta, accepted: bool) -> None:
        """Exactly 24 h old and exactly the skew ahead are accepted; a second more is not."""
        body = jira_body(NOW + offset)

        if accepted:
            check_replay_window("jira", {}, body, now=NOW, window_seconds=DAY)
        else:
            with pytest.raises(WebhookAuthError):
                check_replay_window("jira", {}, body, now=NOW, window_seconds=DAY)

    def test_unlisted_system_unchecked(self) -> None:
        """A system without a signed time passes the window check untouched."""
        check_replay_window("servicenow", {}, b"not even json", now=NOW, window_seconds=1)

    def test_reader_rejects_non_json(self) -> None:
        """A verified body that is not JSON is a payload error (400), not a replay."""
        with pytest.raises(WebhookPayloadError):
            body_epoch_ms("timestamp")({}, b"\xff")

    @pytest.mark.parametrize("value", ["1714547742117", True, None, [1], 1e300])
    def test_reader_ignores_odd_values(self, value: object) -> None:
        """Strings, booleans, lists and impossible times are no timestamp."""
        body = json.dumps({"timestamp": value}).encode()

        assert body_epoch_ms("timestamp")({}, body) is None


class TestMediaType:
    @pytest.mark.parametrize(
        "content_type",
        [
            "application/json",
            "application/json; charset=UTF-8",
            "Application/JSON",
            "application/vnd.x+json",
        ],
    )
    def test_json_accepted(self, content_type: str) -> None:
        """JSON media types are accepted whatever their parameters and case."""
        assert media_type_problem(content_type, accepted_media_types("jira")) is None

    @pytest.mark.parametrize(
        "content_type", [None, "", "text/plain", "application/xml", "text/json"]
    )
    def test_other_rejected(self, content_type: str | None) -> None:
        """Anything else gets a reason naming what to send."""
        problem = media_type_problem(content_type, accepted_media_types("servicenow"))

        assert problem is not None
        assert "application/json" in problem

    def test_non_json_415(self, pinned: Stack, client: TestClient) -> None:
        """A correctly signed notice sent as text/plain is rejected with 415."""
        body = snow_body()
        headers = {**snow_headers(body), "Content-Type": "text/plain"}

        with capture_logs() as logs:
            response = client.post("/webhooks/snow", content=body, headers=headers)

        assert response.status_code == 415
        assert [entry["status"] for entry in rejections(logs)] == [415]
        assert_no_trace(pinned)

    def test_charset_parameter_accepted(self, pinned: Stack, client: TestClient) -> None:
        """Jira's `application/json; charset=UTF-8` is accepted."""
        body = jira_body()
        headers = {**jira_headers(body), "Content-Type": "application/json; charset=UTF-8"}

        response = client.post("/webhooks/jsm", content=body, headers=headers)

        assert response.status_code == 200


class TestNoTrace:
    @pytest.mark.parametrize(
        ("path", "make", "status"),
        [
            ("/webhooks/snow", lambda: (snow_body(), snow_headers(snow_body(), "wrong")), 401),
            ("/webhooks/jsm", lambda: (jira_body(NOW - timedelta(days=3)), None), 401),
            ("/webhooks/snow", lambda: (snow_body(), {"Content-Type": "text/csv"}), 415),
            ("/webhooks/snow", lambda: (b"x" * (MAX_BODY_BYTES + 1), None), 413),
            ("/webhooks/snow", lambda: (b"[1, 2]", None), 400),
            ("/webhooks/nobody", lambda: (snow_body(), None), 404),
        ],
    )
    def test_rejection_leaves_log_line_only(
        self, pinned: Stack, client: TestClient, path: str, make: Any, status: int
    ) -> None:
        """Every rejected request gets its status, logs one line and stores nothing."""
        body, headers = make()
        if headers is None:
            signer = jira_headers if "jsm" in path else snow_headers
            headers = signer(body)

        with capture_logs() as logs:
            response = client.post(path, content=body, headers=headers)

        assert response.status_code == status
        assert [entry["status"] for entry in rejections(logs)] == [status]
        assert_no_trace(pinned)
