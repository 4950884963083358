from __future__ import annotations

from urllib.parse import parse_qs, urlsplit
from xml.etree.ElementTree import Element

import pytest
from defusedxml import ElementTree

from tests.emulators.salesforce.conftest import WEBHOOK_TOKEN
from tests.emulators.salesforce.support import ACK, DATA, AckSink, Api, FakeClock
from tierbridge.emulators.salesforce import SalesforceEmulator, canonical_id, is_ack

OM = "{http://soap.sforce.com/2005/09/outbound}"
SF = "{urn:sobject.enterprise.soap.sforce.com}"
XSI = "{http://www.w3.org/2001/XMLSchema-instance}"


def notifications(body: bytes) -> Element:
    found: Element | None = ElementTree.fromstring(body).find(f".//{OM}notifications")
    assert found is not None
    return found


def sobjects(body: bytes) -> list[dict[str, str]]:
    rows = []
    for notification in notifications(body).findall(f"{OM}Notification"):
        sobject = notification.find(f"{OM}sObject")
        assert sobject is not None
        rows.append({child.tag.replace(SF, ""): child.text or "" for child in sobject})
    return rows


def test_message_envelope(api: Api, emulator: SalesforceEmulator, sink: AckSink) -> None:
    """A Case change posts a SOAP notification with org, action, URLs and a Notification Id."""
    case_id = api.create_case(Priority="High")
    assert emulator.drain_webhooks(5)

    [delivery] = sink.deliveries
    root = notifications(delivery.body)
    notification = root.find(f"{OM}Notification")
    assert notification is not None
    session = root.find(f"{OM}SessionId")
    assert session is not None
    sobject = notification.find(f"{OM}sObject")
    assert sobject is not None

    assert delivery.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert root.findtext(f"{OM}OrganizationId") == emulator.organization_id
    assert root.findtext(f"{OM}ActionId") == emulator.outbound.action_id("Case")
    assert session.get(f"{XSI}nil") == "true"
    assert root.findtext(f"{OM}EnterpriseUrl") == (
        f"{emulator.base_url}/services/Soap/c/62.0/00DHs000000OrGa"
    )
    assert (root.findtext(f"{OM}PartnerUrl") or "").endswith(
        "/services/Soap/u/62.0/00DHs000000OrGa"
    )
    notification_id = notification.findtext(f"{OM}Id") or ""
    assert notification_id.startswith("04l")
    assert canonical_id(notification_id) == notification_id
    assert sobject.get(f"{XSI}type") == "sf:Case"
    assert sobjects(delivery.body) == [
        {
            "Id": case_id,
            "CaseNumber": "00001001",
            "Status": "New",
            "Priority": "High",
            "IsClosed": "false",
            "OwnerId": sobjects(delivery.body)[0]["OwnerId"],
            "LastModifiedById": sobjects(delivery.body)[0]["OwnerId"],
            "CreatedDate": "2024-05-01T07:15:42.000Z",
            "SystemModstamp": "2024-05-01T07:15:42.000Z",
        }
    ]


def test_token_in_endpoint_url(api: Api, emulator: SalesforceEmulator, sink: AckSink) -> None:
    """The webhook secret travels as the endpoint URL's `token` query parameter."""
    api.create_case()
    assert emulator.drain_webhooks(5)

    query = parse_qs(urlsplit(sink.deliveries[0].path).query)

    assert query == {"token": [WEBHOOK_TOKEN]}


def test_retried_until_acked(api: Api, emulator: SalesforceEmulator, sink: AckSink) -> None:
    """A 200 without Ack is a failure: the same message is resent until acknowledged."""
    sink.refuse = 2
    api.create_case()
    assert emulator.drain_webhooks(5)

    bodies = [delivery.body for delivery in sink.deliveries]
    ids = [notifications(body).findtext(f"{OM}Notification/{OM}Id") for body in bodies]

    assert len(bodies) == 3
    assert len(set(ids)) == 1
    assert emulator.outbound.stats.failed_attempts == 2
    assert emulator.outbound.stats.delivered == 1


def test_values_current_at_send(
    api: Api, emulator: SalesforceEmulator, sink: AckSink, clock: FakeClock
) -> None:
    """Each notification carries the record as it is when the message is sent."""
    emulator.set_webhook(None, None)
    case_id = api.create_case()
    emulator.set_webhook(sink.url, WEBHOOK_TOKEN)
    clock.advance(30)
    api.patch(f"{DATA}/sobjects/Case/{case_id}", json={"Status": "Escalated"})
    assert emulator.drain_webhooks(5)

    [row] = [row for delivery in sink.deliveries for row in sobjects(delivery.body)]

    assert row["Status"] == "Escalated"
    assert row["SystemModstamp"] == "2024-05-01T07:16:12.000Z"


def test_comment_notifications(api: Api, emulator: SalesforceEmulator, sink: AckSink) -> None:
    """A CaseComment gets its own outbound message carrying ParentId and IsPublished."""
    case_id = api.create_case()
    api.post(
        f"{DATA}/sobjects/CaseComment",
        json={"ParentId": case_id, "CommentBody": "hello", "IsPublished": False},
    )
    assert emulator.drain_webhooks(5)

    comment_messages = [
        delivery
        for delivery in sink.deliveries
        if notifications(delivery.body).findtext(f"{OM}ActionId")
        == emulator.outbound.action_id("CaseComment")
    ]

    [delivery] = comment_messages
    [row] = sobjects(delivery.body)
    assert row["ParentId"] == case_id
    assert row["IsPublished"] == "false"
    assert "CommentBody" not in row


def test_batches_up_to_100(emulator: SalesforceEmulator, sink: AckSink) -> None:
    """Notifications queued while the sender is busy are sent together, at most 100 a message.

    The sender may take the first changes before the lock is held, so the split varies.
    """
    user_id = emulator.state.rows("User")[0]["Id"]
    # The sender reads records under the state lock, so holding it queues every change.
    with emulator.state._lock:
        for _ in range(102):
            emulator.state.insert("Case", {}, user_id=user_id)
    assert emulator.drain_webhooks(10)

    sizes = sorted(len(sobjects(delivery.body)) for delivery in sink.deliveries)

    assert sum(sizes) == 102
    assert max(sizes) <= 100
    assert len(sizes) <= 3


def test_deleted_record_sends_only_id(emulator: SalesforceEmulator, sink: AckSink) -> None:
    """A record deleted before its message is sent is notified with its Id alone."""
    user_id = emulator.state.rows("User")[0]["Id"]
    sink.refuse = 1
    case_id = emulator.state.insert("Case", {}, user_id=user_id)["Id"]
    emulator.state.delete("Case", case_id, user_id=user_id)
    assert emulator.drain_webhooks(5)

    assert sobjects(sink.deliveries[-1].body) == [{"Id": case_id}]


def test_dropped_after_window(
    emulator: SalesforceEmulator, sink: AckSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A message never acknowledged within the retry window is dropped and counted."""
    monkeypatch.setattr(emulator.outbound, "retry_window_seconds", 0.0)
    sink.refuse = 5
    user_id = emulator.state.rows("User")[0]["Id"]
    emulator.state.insert("Case", {}, user_id=user_id)

    assert emulator.drain_webhooks(5)

    assert emulator.outbound.stats.dropped == 1
    assert len(sink.deliveries) == 1


def test_is_ack() -> None:
    """Only HTTP 200 with Ack true acknowledges a message."""
    assert is_ack(200, ACK)
    assert not is_ack(500, ACK)
    assert not is_ack(200, ACK.replace(b"true", b"false"))
    assert not is_ack(200, b"not xml")
    assert not is_ack(200, b'<!DOCTYPE x [<!ENTITY a "true">]><Ack>&a;</Ack>')
