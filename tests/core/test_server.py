"""Tests for webhook intake through the FastAPI app, with a real store and connectors."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from structlog.testing import capture_logs

from tests.conftest import JIRA_WEBHOOK_SECRET, SNOW_WEBHOOK_SECRET, Stack
from tierbridge.core.server import MAX_BODY_BYTES, create_app


@pytest.fixture
def client(stack: Stack) -> Iterator[TestClient]:
    with TestClient(create_app(stack.rt)) as test_client:
        yield test_client


def snow_notice(sys_id: str = "a" * 32, mod_count: int = 1) -> bytes:
    """A ServiceNow business-rule notice for one incident update."""
    body = {
        "event": "incident.updated",
        "table": "incident",
        "sys_id": sys_id,
        "number": "INC0010001",
        "sys_mod_count": str(mod_count),
        "changed": ["state"],
    }
    return json.dumps(body).encode()


def snow_headers(
    body: bytes, delivery_id: str = "d-1", secret: str = SNOW_WEBHOOK_SECRET
) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return {
        "Content-Type": "application/json",
        "X-Snow-Signature": base64.b64encode(digest).decode(),
        "X-Snow-Delivery-Id": delivery_id,
    }


def jira_headers(body: bytes, delivery_id: str = "j-1") -> dict[str, str]:
    digest = hmac.new(JIRA_WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-Hub-Signature": f"sha256={digest}",
        "X-Atlassian-Webhook-Identifier": delivery_id,
    }


def jira_issue_updated() -> bytes:
    """A Jira issue update, stamped now: the server rejects deliveries outside its window."""
    body: dict[str, Any] = {
        "webhookEvent": "jira:issue_updated",
        "timestamp": int(time.time() * 1000),
        "issue": {
            "id": "10000",
            "key": "L2-1",
            "fields": {"updated": "2024-05-01T09:15:42.117+0200"},
        },
    }
    return json.dumps(body).encode()


class TestRejected:
    def test_wrong_signature_401(self, stack: Stack, client: TestClient) -> None:
        """A notice signed with another key is rejected with 401 and stores nothing."""
        body = snow_notice()

        response = client.post(
            "/webhooks/snow", content=body, headers=snow_headers(body, secret="other-key")
        )

        assert response.status_code == 401
        assert stack.rt.store.list_events() == []

    def test_missing_signature_401(self, stack: Stack, client: TestClient) -> None:
        """A notice without the signature header is rejected with 401 and stores nothing."""
        body = snow_notice()
        headers = snow_headers(body)
        del headers["X-Snow-Signature"]

        response = client.post("/webhooks/snow", content=body, headers=headers)

        assert response.status_code == 401
        assert stack.rt.store.list_events() == []

    def test_jira_missing_signature_401(self, stack: Stack, client: TestClient) -> None:
        """A Jira webhook without X-Hub-Signature is rejected with 401."""
        body = jira_issue_updated()
        headers = jira_headers(body)
        del headers["X-Hub-Signature"]

        response = client.post("/webhooks/jsm", content=body, headers=headers)

        assert response.status_code == 401
        assert stack.rt.store.list_events() == []

    def test_malformed_json_400(self, stack: Stack, client: TestClient) -> None:
        """A correctly signed body that is not JSON gets 400 and one warning line."""
        body = b'{"sys_id": "abc", '

        with capture_logs() as logs:
            response = client.post("/webhooks/snow", content=body, headers=snow_headers(body))

        assert response.status_code == 400
        assert stack.rt.store.list_events() == []
        rejected = [entry for entry in logs if entry["event"] == "webhook_rejected"]
        assert len(rejected) == 1
        assert rejected[0]["status"] == 400
        assert rejected[0]["connector"] == "snow"
        assert rejected[0]["log_level"] == "warning"

    def test_unknown_connector_404(self, stack: Stack, client: TestClient) -> None:
        """A webhook for a connector not in the config gets 404 naming the known ones."""
        body = snow_notice()

        response = client.post("/webhooks/zendesk", content=body, headers=snow_headers(body))

        assert response.status_code == 404
        assert "jsm, snow" in response.json()["error"]
        assert stack.rt.store.list_events() == []

    def test_oversized_body_413(self, stack: Stack, client: TestClient) -> None:
        """A body larger than MAX_BODY_BYTES is rejected with 413 before the signature check."""
        body = b"{" + b" " * MAX_BODY_BYTES + b"}"

        response = client.post("/webhooks/snow", content=body, headers=snow_headers(body))

        assert response.status_code == 413
        assert stack.rt.store.list_events() == []

    def test_oversized_chunked_body_413(self, stack: Stack, client: TestClient) -> None:
        """A body sent in chunks without Content-Length is measured and rejected too."""
        chunk = b" " * (64 * 1024)
        chunks = [chunk] * (MAX_BODY_BYTES // len(chunk) + 1)
        headers = {"X-Snow-Signature": "unused", "Content-Type": "application/json"}

        response = client.post("/webhooks/snow", content=iter(chunks), headers=headers)

        assert response.status_code == 413
        assert stack.rt.store.list_events() == []


class TestAccepted:
    def test_snow_notice_stored(self, stack: Stack, client: TestClient) -> None:
        """A signed ServiceNow notice gets 200 and is stored as one inbox event."""
        body = snow_notice(sys_id="b" * 32, mod_count=4)

        response = client.post("/webhooks/snow", content=body, headers=snow_headers(body))

        assert response.status_code == 200
        assert response.json() == {"accepted": 1, "duplicates": 0}
        (event,) = stack.rt.store.list_events()
        assert event.connector == "snow"
        assert event.ticket_id == "b" * 32
        assert event.delivery_id == "d-1"
        assert event.status == "pending"

    def test_jira_webhook_stored(self, stack: Stack, client: TestClient) -> None:
        """A signed Jira webhook gets 200 and is stored as one inbox event."""
        body = jira_issue_updated()

        response = client.post("/webhooks/jsm", content=body, headers=jira_headers(body))

        assert response.status_code == 200
        (event,) = stack.rt.store.list_events()
        assert event.connector == "jsm"
        assert event.ticket_id == "10000"
        assert event.delivery_id == "j-1"
        assert event.version == "2024-05-01T07:15:42.117Z"

    def test_duplicate_delivery_once(self, stack: Stack, client: TestClient) -> None:
        """A redelivered notice gets 200 twice, is stored once and is processed once."""
        incident = stack.open_incident()
        body = snow_notice(sys_id=incident["sys_id"])
        headers = snow_headers(body, delivery_id="same-delivery")

        first = client.post("/webhooks/snow", content=body, headers=headers)
        second = client.post("/webhooks/snow", content=body, headers=headers)
        handled = stack.handle_due()

        assert first.status_code == 200
        assert second.status_code == 200
        assert second.json() == {"accepted": 0, "duplicates": 1}
        assert len(stack.rt.store.list_events()) == 1
        assert [event.delivery_id for event in handled] == ["same-delivery"]
        assert stack.rt.store.list_events(status="done")[0].attempts == 1

    def test_accept_calls_on_event(self, stack: Stack) -> None:
        """The app calls `on_event` after storing a new event, and not for a duplicate."""
        calls: list[int] = []
        body = snow_notice()
        with TestClient(create_app(stack.rt, on_event=lambda: calls.append(1))) as client:
            client.post("/webhooks/snow", content=body, headers=snow_headers(body))
            client.post("/webhooks/snow", content=body, headers=snow_headers(body))

        assert calls == [1]


class TestProbes:
    def test_readyz_reports_queue(self, stack: Stack, client: TestClient) -> None:
        """/readyz reports ready with the number of unfinished events."""
        body = snow_notice()
        client.post("/webhooks/snow", content=body, headers=snow_headers(body))

        response = client.get("/readyz")

        assert response.status_code == 200
        assert response.json() == {"status": "ready", "queue_depth": 1}

    def test_metrics_count_webhooks(self, client: TestClient) -> None:
        """/metrics counts webhooks by connector and HTTP status."""
        body = snow_notice()
        client.post("/webhooks/snow", content=body, headers=snow_headers(body, secret="x"))

        text = client.get("/metrics").text

        assert 'connector="snow"' in text
        assert 'result="401"' in text
