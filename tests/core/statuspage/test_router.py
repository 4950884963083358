"""Tests of the /status page: token checks, the overview, a ticket's trail, escaping."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from tests.conftest import Stack
from tests.core.ops.support import escalate
from tierbridge.core.runtime import Runtime
from tierbridge.core.secrets import SecretRef
from tierbridge.core.server import create_app
from tierbridge.core.store import SyncLogEntry

TOKEN = "status-page-test-token"


def with_token(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    """Set server.status_token to {env: TIERBRIDGE_STATUS_TOKEN} holding TOKEN."""
    monkeypatch.setenv("TIERBRIDGE_STATUS_TOKEN", TOKEN)
    server = rt.config.server.model_copy(
        update={"status_token": SecretRef(env="TIERBRIDGE_STATUS_TOKEN")}
    )
    rt.config = rt.config.model_copy(update={"server": server})


@pytest.fixture
def client(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    with_token(stack.rt, monkeypatch)
    return TestClient(create_app(stack.rt))


BEARER = {"Authorization": f"Bearer {TOKEN}"}


class TestAccess:
    def test_off_without_token_setting(self, stack: Stack) -> None:
        """Without server.status_token the page returns 404 and how to turn it on."""
        response = TestClient(create_app(stack.rt)).get("/status")

        assert response.status_code == 404
        assert "set server.status_token" in response.json()["detail"]

    def test_401_without_token(self, client: TestClient) -> None:
        """A request without a token gets 401 with a Bearer challenge."""
        response = client.get("/status")

        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")

    def test_401_wrong_token(self, client: TestClient) -> None:
        """A wrong bearer token and a wrong query token both get 401."""
        assert client.get("/status", headers={"Authorization": "Bearer nope"}).status_code == 401
        assert client.get("/status", params={"token": "nope"}).status_code == 401
        assert client.get("/status/ticket/snow:x").status_code == 401

    def test_bearer_token_accepted(self, client: TestClient) -> None:
        """The bearer token opens the page, which is never cached and runs no script."""
        response = client.get("/status", headers=BEARER)

        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert "default-src 'none'" in response.headers["content-security-policy"]
        assert "<h1>tierbridge status</h1>" in response.text
        assert "?token=" not in response.text

    def test_unreadable_token_503(self, stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
        """A token variable that is not set gives 503, naming the variable."""
        with_token(stack.rt, monkeypatch)
        monkeypatch.delenv("TIERBRIDGE_STATUS_TOKEN")

        response = TestClient(create_app(stack.rt)).get("/status", headers=BEARER)

        assert response.status_code == 503
        assert "TIERBRIDGE_STATUS_TOKEN" in response.json()["detail"]


class TestPages:
    def test_overview_sections(self, stack: Stack, client: TestClient) -> None:
        """The overview lists both connectors, the queue and a dead letter with its error."""
        event_id = stack.queue("snow", "gone")
        stack.rt.store.dead_event(event_id, "snow get_record incident/gone (HTTP 404): not found")

        text = client.get("/status", params={"token": TOKEN}).text

        assert "<td>snow</td><td>servicenow</td><td>L1</td>" in text
        assert "<td>jsm</td><td>jira</td><td>L2</td>" in text
        assert "1 events waiting" not in text
        assert "1 dead letters" in text
        assert "(HTTP 404): not found" in text
        assert f'href="/status/ticket/snow:gone?token={TOKEN}"' in text

    def test_ticket_trail(self, stack: Stack, client: TestClient) -> None:
        """A ticket's page lists its linked tickets and its trail, found by the JSM key."""
        linked = escalate(stack)

        text = client.get(f"/status/ticket/jsm:{linked.key}", headers=BEARER).text

        assert f"<td>{linked.sys_id}</td>" in text
        assert f"<td>{linked.key}</td>" in text
        assert "<td>escalated</td>" in text
        assert "VPN drops" not in text

    def test_lookup_redirects(self, client: TestClient) -> None:
        """The lookup form's query redirects to the ticket's page, keeping the query token."""
        response = client.get(
            "/status/ticket", params={"ref": " snow:abc ", "token": TOKEN}, follow_redirects=False
        )

        assert response.status_code == 303
        assert response.headers["location"] == f"/status/ticket/snow:abc?token={TOKEN}"

    def test_values_escaped(self, stack: Stack, client: TestClient) -> None:
        """Text from the sync log is escaped, so markup in an error cannot run."""
        stack.rt.store.log(
            SyncLogEntry(
                connector="snow",
                ticket_id="t1",
                action="retry",
                at=stack.rt.clock(),
                outcome="failed",
                error="<script>alert(1)</script>",
            )
        )

        text = client.get("/status", headers=BEARER).text

        assert "<script>" not in text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
