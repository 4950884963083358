from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from tests.emulators.jira.support import Api, FakeClock, WebhookSink
from tierbridge.emulators.jira import JiraEmulator
from tierbridge.emulators.jira.webhooks import sign_body

VECTOR_BODY = (
    b'{"timestamp":1714568400123,"webhookEvent":"jira:issue_updated",'
    b'"issue":{"id":"10042","key":"ITSM-17"}}'
)


def _bodies(emulator: JiraEmulator, sink: WebhookSink) -> list[dict[str, Any]]:
    assert emulator.drain_webhooks(5)
    return [json.loads(item.body) for item in sink.deliveries]


def test_signature_test_vector() -> None:
    """The signer reproduces the published HMAC-SHA256 test vector."""
    assert sign_body("s3cr3t-example", VECTOR_BODY) == (
        "sha256=d46c68d465d938d024608264b33d12f58f1f16d3b1a137a111c0607042f48a05"
    )


def test_created_event_signed(emulator: JiraEmulator, sink: WebhookSink, svc: Api) -> None:
    """A create sends jira:issue_created, signed over the raw body, with a delivery id."""
    svc.create_request(description="hello")

    bodies = _bodies(emulator, sink)
    delivery = sink.deliveries[0]

    assert bodies[0]["webhookEvent"] == "jira:issue_created"
    assert bodies[0]["issue"]["fields"]["description"] == "hello"
    assert bodies[0]["timestamp"] == 1714547742117
    assert bodies[0]["user"]["emailAddress"] == "svc.tierbridge@example.com"
    expected = hmac.new(b"s3cr3t-example", delivery.body, hashlib.sha256).hexdigest()
    assert delivery.headers["X-Hub-Signature"] == f"sha256={expected}"
    assert delivery.headers["X-Atlassian-Webhook-Identifier"]


def test_transition_changelog(emulator: JiraEmulator, sink: WebhookSink, svc: Api) -> None:
    """A transition sends status and resolution items with raw ids and labels."""
    key = svc.create_request()["issueKey"]
    svc.post(
        f"/rest/api/3/issue/{key}/transitions",
        json={"transition": {"id": "51"}, "fields": {"resolution": {"name": "Done"}}},
    )

    update = _bodies(emulator, sink)[1]

    assert update["webhookEvent"] == "jira:issue_updated"
    assert update["issue_event_type_name"] == "issue_resolved"
    assert update["changelog"]["items"] == [
        {
            "field": "status",
            "fieldtype": "jira",
            "fieldId": "status",
            "from": "10001",
            "fromString": "Waiting for support",
            "to": "10005",
            "toString": "Resolved",
        },
        {
            "field": "resolution",
            "fieldtype": "jira",
            "fieldId": "resolution",
            "from": None,
            "fromString": None,
            "to": "10000",
            "toString": "Done",
        },
    ]


def test_edit_changelog_custom_field(
    emulator: JiraEmulator, sink: WebhookSink, agent: Api, svc: Api, clock: FakeClock
) -> None:
    """Edits by any user are sent; custom fields are marked custom; times use the actor's zone."""
    key = svc.create_request()["issueKey"]
    clock.advance(5)
    agent.put(
        f"/rest/api/3/issue/{key}", json={"fields": {"customfield_10050": {"value": "Access"}}}
    )

    update = _bodies(emulator, sink)[1]

    assert update["issue_event_type_name"] == "issue_updated"
    assert update["user"]["emailAddress"] == "agent.l2@example.com"
    assert update["changelog"]["items"][0]["fieldtype"] == "custom"
    assert update["changelog"]["items"][0]["toString"] == "Access"
    assert update["issue"]["fields"]["updated"] == "2024-05-01T12:45:47.117+0530"


def test_comment_sends_two_events(emulator: JiraEmulator, sink: WebhookSink, svc: Api) -> None:
    """A comment sends comment_created and an issue_commented update, each with its own id."""
    key = svc.create_request()["issueKey"]
    svc.post(f"/rest/servicedeskapi/request/{key}/comment", json={"body": "note", "public": False})

    bodies = _bodies(emulator, sink)[1:]
    identifiers = {item.headers["X-Atlassian-Webhook-Identifier"] for item in sink.deliveries}

    assert [body["webhookEvent"] for body in bodies] == ["comment_created", "jira:issue_updated"]
    assert bodies[0]["comment"]["body"] == "note"
    assert bodies[0]["comment"]["jsdPublic"] is False
    assert "updated" not in bodies[0]["issue"]["fields"]
    assert bodies[1]["issue_event_type_name"] == "issue_commented"
    assert bodies[1]["comment"]["id"] == bodies[0]["comment"]["id"]
    assert len(identifiers) == 3


def test_no_secret_no_signature(emulator: JiraEmulator, sink: WebhookSink, svc: Api) -> None:
    """Without a secret, deliveries carry no X-Hub-Signature."""
    emulator.set_webhook(sink.url, None)

    svc.create_request()
    _bodies(emulator, sink)

    assert "X-Hub-Signature" not in sink.deliveries[0].headers


def test_attachment_sends_two_events(
    emulator: JiraEmulator, sink: WebhookSink, agent: Api, svc: Api, clock: FakeClock
) -> None:
    """A file sends attachment_created without an issue, then an update with an Attachment item."""
    key = svc.create_request()["issueKey"]
    clock.advance(5)
    agent.post(
        f"/rest/api/3/issue/{key}/attachments",
        files={"file": ("vpn-log.txt", b"log lines", "text/plain")},
        headers={"X-Atlassian-Token": "no-check"},
    )

    bodies = _bodies(emulator, sink)[1:]
    created, update = bodies

    assert [body["webhookEvent"] for body in bodies] == ["attachment_created", "jira:issue_updated"]
    assert "issue" not in created
    assert created["timestamp"] == 1714547747117
    assert created["attachment"]["id"] == "10300"
    assert created["attachment"]["filename"] == "vpn-log.txt"
    assert created["attachment"]["size"] == 9
    assert created["attachment"]["created"] == "2024-05-01T12:45:47.117+0530"
    assert created["attachment"]["content"].endswith("/rest/api/2/attachment/content/10300")
    assert update["issue_event_type_name"] == "issue_updated"
    assert update["user"]["emailAddress"] == "agent.l2@example.com"
    assert update["changelog"]["items"] == [
        {
            "field": "Attachment",
            "fieldtype": "jira",
            "fieldId": "attachment",
            "from": None,
            "fromString": None,
            "to": "10300",
            "toString": "vpn-log.txt",
        }
    ]
    assert update["issue"]["fields"]["updated"] == "2024-05-01T12:45:47.117+0530"
    assert update["issue"]["fields"]["attachment"][0]["id"] == "10300"
