"""Webhooks: authentic deliveries parse to events; forged, unsigned and broken ones are refused."""

from __future__ import annotations

import pytest

from tierbridge.core.connector import Connector, IntakeEvent
from tierbridge.core.errors import WebhookAuthError, WebhookPayloadError
from tierbridge.testing import Delivery, Target, Unsupported


def intake(connector: Connector, delivery: Delivery) -> list[IntakeEvent]:
    """Check and parse a delivery, in the order the webhook server does."""
    connector.verify_webhook(delivery.headers, delivery.body)
    return connector.parse_webhook(delivery.headers, delivery.body)


def test_delivery_parses_to_event(target: Target) -> None:
    """An authentic delivery passes the check and names the changed ticket and a delivery id."""
    seeded = target.seed("Kiosk frozen")
    delivery = target.delivery(seeded)
    connector = target.connector()

    events = intake(connector, delivery)

    assert [event.ticket_id for event in events] == [seeded.id]
    assert events[0].delivery_id
    assert events[0].connector == connector.name


def test_redelivery_same_id(target: Target) -> None:
    """Parsing the same delivery twice gives the same delivery id, the deduplication key."""
    seeded = target.seed("Kiosk frozen")
    delivery = target.delivery(seeded)
    connector = target.connector()

    first = connector.parse_webhook(delivery.headers, delivery.body)
    again = connector.parse_webhook(delivery.headers, delivery.body)

    assert [event.delivery_id for event in first] == [event.delivery_id for event in again]


def test_other_secret_rejected(target: Target) -> None:
    """A connector configured with another secret rejects the delivery."""
    seeded = target.seed("Kiosk frozen")
    delivery = target.delivery(seeded)
    connector = target.connector(**target.other_webhook_secret())

    with pytest.raises(WebhookAuthError):
        connector.verify_webhook(delivery.headers, delivery.body)


def test_missing_auth_rejected(target: Target) -> None:
    """A delivery without its signature or shared token is rejected."""
    seeded = target.seed("Kiosk frozen")
    delivery = target.strip_auth(target.delivery(seeded))
    connector = target.connector()

    with pytest.raises(WebhookAuthError):
        connector.verify_webhook(delivery.headers, delivery.body)


def test_changed_body_rejected(target: Target) -> None:
    """A body changed after signing fails the signature check."""
    if not target.facts.signed_webhooks:
        raise Unsupported(f"{target.system} webhooks carry a shared token, not a body signature")
    seeded = target.seed("Kiosk frozen")
    delivery = target.delivery(seeded)
    connector = target.connector()
    changed = delivery.with_body(delivery.body.replace(seeded.id.encode(), b"0" * len(seeded.id)))

    with pytest.raises(WebhookAuthError):
        connector.verify_webhook(changed.headers, changed.body)


def test_broken_body_rejected(target: Target) -> None:
    """An authentic delivery whose body is not the vendor's format raises WebhookPayloadError."""
    seeded = target.seed("Kiosk frozen")
    delivery = target.resign(target.delivery(seeded), b"<not a webhook")
    connector = target.connector()

    with pytest.raises(WebhookPayloadError):
        intake(connector, delivery)
