"""Outbound Messages through the daemon's webhook endpoint: token, acknowledgement, storage."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

from tests.connectors.salesforce.conftest import WEBHOOK_TOKEN
from tests.connectors.salesforce.test_webhooks import envelope
from tierbridge.connectors.salesforce.connector import SalesforceConnector
from tierbridge.connectors.salesforce.webhooks import ACK_BODY
from tierbridge.core.server import create_app
from tierbridge.core.store import Store


@pytest.fixture
def client(connector: SalesforceConnector, tmp_path: Path) -> TestClient:
    """The webhook app with one Salesforce connector named `sf` and a fresh SQLite store."""
    store = Store.open(f"sqlite:///{tmp_path / 'tb.db'}")
    runtime = SimpleNamespace(
        connectors={"sf": connector},
        config=SimpleNamespace(connectors={"sf": connector.settings}),
        store=store,
        clock=lambda: datetime.now(UTC),
    )
    return TestClient(create_app(runtime))  # type: ignore[arg-type]


def test_outbound_message_acknowledged(client: TestClient) -> None:
    """A valid message is stored and answered with the SOAP Ack Salesforce waits for."""
    response = client.post(
        f"/webhooks/sf?token={WEBHOOK_TOKEN}",
        content=envelope(),
        headers={"Content-Type": "text/xml; charset=utf-8"},
    )

    assert response.status_code == 200
    assert response.content == ACK_BODY
    assert "xml" in response.headers["content-type"]


def test_outbound_message_wrong_token(client: TestClient) -> None:
    """A wrong token in the endpoint URL is rejected before the body is parsed."""
    response = client.post(
        "/webhooks/sf?token=wrong", content=envelope(), headers={"Content-Type": "text/xml"}
    )

    assert response.status_code == 401


def test_outbound_message_redelivery_stored_once(client: TestClient, tmp_path: Path) -> None:
    """A resent message (same notification id) is acknowledged again but stored once."""
    for _ in range(2):
        response = client.post(
            f"/webhooks/sf?token={WEBHOOK_TOKEN}",
            content=envelope(),
            headers={"Content-Type": "text/xml"},
        )
        assert response.status_code == 200

    store = Store.open(f"sqlite:///{tmp_path / 'tb.db'}")
    assert store.pending_count() == 1
    store.close()
