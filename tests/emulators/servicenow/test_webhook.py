from __future__ import annotations

import json

from tests.emulators.servicenow.conftest import WEBHOOK_SECRET
from tests.emulators.servicenow.support import INCIDENTS, Api, WebhookSink
from tierbridge.emulators.servicenow import ServiceNowEmulator
from tierbridge.emulators.servicenow.webhook import sign


def test_sign_test_vector() -> None:
    """sign() matches the published CertificateEncryption.generateMac test vector."""
    body = b'{"number":"INC0010023","state":"2"}'

    assert sign("snow-shared-key", body) == "l49IjZ9DcktuqQUUcSBxr87351lYUCx8rokLcBQd8L0="


def test_insert_notice_signed(svc: Api, emulator: ServiceNowEmulator, sink: WebhookSink) -> None:
    """An insert posts incident.created, signed over the raw body, with a delivery id."""
    created = svc.create(state="2")
    assert emulator.drain_webhooks(5)

    [delivery] = sink.deliveries
    notice = json.loads(delivery.body)
    assert notice["event"] == "incident.created"
    assert notice["table"] == "incident"
    assert notice["sys_id"] == created["sys_id"]
    assert notice["number"] == "INC0010001"
    assert notice["sys_mod_count"] == "0"
    assert notice["updated_by"] == "svc.tierbridge"
    assert notice["sys_updated_on"] == "2024-05-01 07:15:42"
    assert "state" in notice["changed"]
    assert delivery.headers["X-Snow-Signature"] == sign(WEBHOOK_SECRET, delivery.body)
    assert len(delivery.headers["X-Snow-Delivery-Id"]) == 32
    assert delivery.body.startswith(b'{"event":"incident.created","table":"incident","sys_id":')


def test_update_notice_lists_changes(
    agent: Api, emulator: ServiceNowEmulator, sink: WebhookSink
) -> None:
    """An update by any user posts incident.updated naming the changed fields and journals."""
    created = agent.create()
    agent.patch(f"{INCIDENTS}/{created['sys_id']}", json={"urgency": "1", "comments": "Hello"})
    assert emulator.drain_webhooks(5)

    notice = json.loads(sink.deliveries[-1].body)
    assert notice["event"] == "incident.updated"
    assert notice["updated_by"] == "agent.l1"
    assert notice["sys_mod_count"] == "1"
    assert notice["changed"] == ["urgency", "priority", "comments"]


def test_delivery_ids_differ(svc: Api, emulator: ServiceNowEmulator, sink: WebhookSink) -> None:
    """Each change gets its own delivery id."""
    created = svc.create()
    svc.patch(f"{INCIDENTS}/{created['sys_id']}", json={"state": "2"})
    assert emulator.drain_webhooks(5)

    ids = {delivery.headers["X-Snow-Delivery-Id"] for delivery in sink.deliveries}
    assert len(ids) == 2


def test_unchanged_update_silent(svc: Api, emulator: ServiceNowEmulator, sink: WebhookSink) -> None:
    """An update that changes nothing sends no notice."""
    created = svc.create(state="2")
    svc.patch(f"{INCIDENTS}/{created['sys_id']}", json={"state": "2"})
    assert emulator.drain_webhooks(5)

    assert len(sink.deliveries) == 1


def test_other_tables_silent(emulator: ServiceNowEmulator, sink: WebhookSink) -> None:
    """Users and groups do not trigger the incident rule."""
    emulator.state.insert("sys_user_group", {"name": "Group 7"}, user="svc.tierbridge")
    assert emulator.drain_webhooks(5)

    assert sink.deliveries == []


def test_set_webhook_switches(svc: Api, emulator: ServiceNowEmulator, sink: WebhookSink) -> None:
    """set_webhook(None, ...) stops notices; a new secret signs later ones."""
    emulator.set_webhook(None, None)
    svc.create()
    emulator.set_webhook(sink.url, "another-key")
    svc.create()
    assert emulator.drain_webhooks(5)

    [delivery] = sink.deliveries
    assert delivery.headers["X-Snow-Signature"] == sign("another-key", delivery.body)
