from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pytest

from tests.connectors.servicenow.conftest import WEBHOOK_KEY, MakeSettings
from tests.emulators.servicenow.support import WebhookSink
from tierbridge.connectors.servicenow.connector import ServiceNowConnector
from tierbridge.connectors.servicenow.webhooks import signature
from tierbridge.core.errors import WebhookAuthError, WebhookPayloadError
from tierbridge.emulators.servicenow import ServiceNowEmulator

SYS_ID = "6b1f3c2ad74e4a10b8e2f0c9a1d2e3f4"
NOTICE: dict[str, object] = {
    "event": "incident.updated",
    "table": "incident",
    "sys_id": SYS_ID,
    "number": "INC0010023",
    "sys_updated_on": "2024-05-01 09:03:10",
    "sys_mod_count": "4",
    "updated_by": "alex.doe",
    "changed": ["state"],
}


def encode(notice: Mapping[str, object]) -> bytes:
    return json.dumps(notice, separators=(",", ":")).encode()


def test_signature_test_vector() -> None:
    """signature() matches the published generateMac test vector."""
    body = b'{"number":"INC0010023","state":"2"}'

    assert signature("snow-shared-key", body) == "l49IjZ9DcktuqQUUcSBxr87351lYUCx8rokLcBQd8L0="


def test_verify_good(connector: ServiceNowConnector) -> None:
    """A correct signature passes, whatever the header's case."""
    body = encode(NOTICE)

    connector.verify_webhook({"x-snow-signature": signature(WEBHOOK_KEY, body)}, body)


def test_verify_bad(connector: ServiceNowConnector) -> None:
    """A signature made with another key raises WebhookAuthError naming the header."""
    body = encode(NOTICE)

    with pytest.raises(WebhookAuthError, match="X-Snow-Signature") as caught:
        connector.verify_webhook({"X-Snow-Signature": signature("other-key", body)}, body)

    assert "shared key" in str(caught.value)
    assert caught.value.status_code == 401


def test_verify_tampered(connector: ServiceNowConnector) -> None:
    """A body changed after signing fails."""
    sent = signature(WEBHOOK_KEY, encode(NOTICE))

    with pytest.raises(WebhookAuthError):
        connector.verify_webhook(
            {"X-Snow-Signature": sent}, encode({**NOTICE, "sys_mod_count": "5"})
        )


def test_verify_missing(connector: ServiceNowConnector) -> None:
    """A notice without the header raises WebhookAuthError naming it."""
    with pytest.raises(WebhookAuthError, match="missing X-Snow-Signature"):
        connector.verify_webhook({}, encode(NOTICE))


def test_verify_without_secret(make_settings: MakeSettings) -> None:
    """A connector with no webhook secret refuses every notice."""
    snow = ServiceNowConnector("snow", make_settings(webhook=None))
    body = encode(NOTICE)

    with pytest.raises(WebhookAuthError, match=r"webhook\.secret"):
        snow.verify_webhook({"X-Snow-Signature": signature(WEBHOOK_KEY, body)}, body)
    snow.close()


def test_verify_custom_header(make_settings: MakeSettings) -> None:
    """webhook.signature_header overrides the default header name."""
    webhook = {"secret": {"env": "TB_TEST_SNOW_WEBHOOK_KEY"}, "signature_header": "X-Sig"}
    snow = ServiceNowConnector("snow", make_settings(webhook=webhook))
    body = encode(NOTICE)

    snow.verify_webhook({"X-Sig": signature(WEBHOOK_KEY, body)}, body)
    snow.close()


def test_parse_update(connector: ServiceNowConnector) -> None:
    """A notice becomes one IntakeEvent keyed by the delivery id."""
    headers = {"X-Snow-Delivery-Id": "d" * 32}

    [event] = connector.parse_webhook(headers, encode(NOTICE))

    assert event.connector == "snow"
    assert event.delivery_id == "d" * 32
    assert event.ticket_id == SYS_ID
    assert event.kind == "updated"
    assert event.version == "0000000004"
    assert event.payload["changed"] == ["state"]


def test_parse_created_fallback_id(connector: ServiceNowConnector) -> None:
    """Without a delivery id header the id is sys_id:sys_mod_count."""
    notice = {**NOTICE, "event": "incident.created", "sys_mod_count": "0"}

    [event] = connector.parse_webhook({}, encode(notice))

    assert event.kind == "created"
    assert event.delivery_id == f"{SYS_ID}:0"


@pytest.mark.parametrize(
    ("body", "named"),
    [
        (b"{not json", "not JSON"),
        (b"[1, 2]", "JSON object"),
        (encode({k: v for k, v in NOTICE.items() if k != "sys_id"}), "sys_id"),
        (encode({**NOTICE, "sys_mod_count": "four"}), "sys_mod_count"),
    ],
)
def test_parse_malformed(connector: ServiceNowConnector, body: bytes, named: str) -> None:
    """Malformed bodies raise WebhookPayloadError naming the problem."""
    with pytest.raises(WebhookPayloadError, match=named):
        connector.parse_webhook({}, body)


def test_parse_no_id_no_count(connector: ServiceNowConnector) -> None:
    """A notice with neither delivery id nor sys_mod_count cannot be deduplicated."""
    notice = {k: v for k, v in NOTICE.items() if k != "sys_mod_count"}

    with pytest.raises(WebhookPayloadError, match="sys_mod_count"):
        connector.parse_webhook({}, encode(notice))


def test_parse_ignores_others(connector: ServiceNowConnector) -> None:
    """Notices for other tables or events give no events."""
    assert connector.parse_webhook({}, encode({**NOTICE, "table": "problem"})) == []
    assert connector.parse_webhook({}, encode({**NOTICE, "event": "incident.deleted"})) == []


def test_emulator_round_trip(
    make_settings: MakeSettings, emulator: ServiceNowEmulator, tmp_path: Path
) -> None:
    """A notice from the emulator's business rule verifies and parses."""
    snow = ServiceNowConnector("snow", make_settings())
    with WebhookSink().running() as sink:
        emulator.set_webhook(sink.url, WEBHOOK_KEY)
        record = emulator.state.insert("incident", {"short_description": "x"}, user="agent.l1")
        assert emulator.drain_webhooks(5)
        emulator.set_webhook(None, None)

    [delivery] = sink.deliveries
    snow.verify_webhook(delivery.headers, delivery.body)
    [event] = snow.parse_webhook(delivery.headers, delivery.body)
    snow.close()

    assert event.ticket_id == record["sys_id"]
    assert event.kind == "created"
    assert event.delivery_id == delivery.headers["X-Snow-Delivery-Id"]
    assert event.version == "0000000000"


ATTACHMENT_NOTICE: dict[str, object] = {
    **NOTICE,
    "event": "incident.attachment_added",
    "changed": [],
    "attachment_sys_id": "a1b2c3d4e5f60718293a4b5c6d7e8f90",
}


def test_parse_attachment_notice(connector: ServiceNowConnector) -> None:
    """A file notice becomes an updated event for its record, at the record's version."""
    headers = {"X-Snow-Delivery-Id": "e" * 32}

    [event] = connector.parse_webhook(headers, encode(ATTACHMENT_NOTICE))

    assert event.ticket_id == SYS_ID
    assert event.kind == "updated"
    assert event.version == "0000000004"
    assert event.delivery_id == "e" * 32


def test_attachment_fallback_id(connector: ServiceNowConnector) -> None:
    """Without a delivery id header a file notice is keyed by its attachment, not its version."""
    [event] = connector.parse_webhook({}, encode(ATTACHMENT_NOTICE))

    assert event.delivery_id == f"{SYS_ID}:attachment:a1b2c3d4e5f60718293a4b5c6d7e8f90"


def test_emulator_attachment_notice(
    make_settings: MakeSettings, emulator: ServiceNowEmulator
) -> None:
    """The emulator's notice for an attached file verifies and parses to the record's event."""
    snow = ServiceNowConnector("snow", make_settings())
    record = emulator.state.insert("incident", {"short_description": "x"}, user="agent.l1")
    with WebhookSink().running() as sink:
        emulator.set_webhook(sink.url, WEBHOOK_KEY)
        emulator.state.add_attachment(
            "incident", record["sys_id"], "a.txt", b"a", "text/plain", user="agent.l1"
        )
        assert emulator.drain_webhooks(5)
        emulator.set_webhook(None, None)

    [delivery] = sink.deliveries
    snow.verify_webhook(delivery.headers, delivery.body)
    [event] = snow.parse_webhook(delivery.headers, delivery.body)
    snow.close()

    assert event.ticket_id == record["sys_id"]
    assert event.kind == "updated"
    assert event.version == "0000000000"


@pytest.mark.parametrize(
    ("payload", "touched"),
    [
        ({"event": "incident.updated", "changed": ["state"]}, frozenset()),
        ({"event": "incident.updated", "changed": ["state", "work_notes"]}, {"comments"}),
        ({"event": "incident.updated", "changed": ["comments"]}, {"comments"}),
        ({"event": "incident.attachment_added", "changed": []}, {"attachments"}),
        ({"event": "incident.created", "changed": ["state"]}, None),
        ({"event": "incident.updated"}, None),
        ({"event": "incident.updated", "changed": "state"}, None),
    ],
)
def test_lists_touched(
    connector: ServiceNowConnector, payload: dict[str, object], touched: set[str] | None
) -> None:
    """Only a notice's `changed` list or attachment event may spare a list read."""
    assert connector.lists_touched("updated", payload) == touched
