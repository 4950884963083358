from __future__ import annotations

import json

import pytest

from tierbridge.connectors.jira.webhooks import lists_touched, parse_events, verify_signature
from tierbridge.core.errors import WebhookAuthError, WebhookPayloadError

SECRET = "s3cr3t-example"
VECTOR_BODY = (
    b'{"timestamp":1714568400123,"webhookEvent":"jira:issue_updated",'
    b'"issue":{"id":"10042","key":"ITSM-17"}}'
)
VECTOR_SIGNATURE = "sha256=d46c68d465d938d024608264b33d12f58f1f16d3b1a137a111c0607042f48a05"


def test_verify_accepts_test_vector() -> None:
    """The published test vector verifies, whatever the header's case."""
    verify_signature({"x-hub-signature": VECTOR_SIGNATURE}, VECTOR_BODY, SECRET, "X-Hub-Signature")


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "missing X-Hub-Signature"),
        ({"X-Hub-Signature": "sha1=abc"}, "must have the form"),
        ({"X-Hub-Signature": "sha256=" + "0" * 64}, "does not match"),
    ],
)
def test_verify_rejects(headers: dict[str, str], message: str) -> None:
    """Missing, malformed and wrong signatures raise WebhookAuthError naming the header."""
    with pytest.raises(WebhookAuthError, match=message):
        verify_signature(headers, VECTOR_BODY, SECRET, "X-Hub-Signature")


def test_verify_detects_changed_body() -> None:
    """A body changed after signing fails verification."""
    with pytest.raises(WebhookAuthError):
        verify_signature(
            {"X-Hub-Signature": VECTOR_SIGNATURE}, VECTOR_BODY + b" ", SECRET, "X-Hub-Signature"
        )


def _body(event: str, **extra: object) -> bytes:
    issue = {"id": "10042", "key": "ITSM-17", "fields": {"updated": "2024-05-01T11:03:10.554+0200"}}
    return json.dumps(
        {"timestamp": 1714554190554, "webhookEvent": event, "issue": issue, **extra}
    ).encode()


@pytest.mark.parametrize(
    ("event", "kind"),
    [
        ("jira:issue_created", "created"),
        ("jira:issue_updated", "updated"),
        ("comment_created", "commented"),
        ("comment_updated", "commented"),
    ],
)
def test_parse_event_kinds(event: str, kind: str) -> None:
    """Issue and comment events become intake events with the issue id and UTC version."""
    events = parse_events("jira-l2", {"X-Atlassian-Webhook-Identifier": "d-1"}, _body(event))

    assert len(events) == 1
    assert events[0].kind == kind
    assert events[0].ticket_id == "10042"
    assert events[0].delivery_id == "d-1"
    assert events[0].version == "2024-05-01T09:03:10.554Z"
    assert events[0].connector == "jira-l2"
    assert events[0].payload["webhookEvent"] == event


def test_parse_issue_commented() -> None:
    """The issue update that accompanies a comment is reported as a comment."""
    body = _body("jira:issue_updated", issue_event_type_name="issue_commented")

    assert parse_events("jira-l2", {}, body)[0].kind == "commented"


def test_parse_fallback_delivery_id() -> None:
    """Without the identifier header the delivery id is built from event, issue and time."""
    events = parse_events("jira-l2", {}, _body("jira:issue_created"))

    assert events[0].delivery_id == "jira:issue_created:10042:1714554190554"


def test_parse_without_updated() -> None:
    """A trimmed issue without `updated` gives an event without version."""
    body = json.dumps({"webhookEvent": "comment_created", "issue": {"id": "7", "fields": {}}})

    assert parse_events("jira-l2", {}, body.encode())[0].version is None


def test_parse_ignores_other_events() -> None:
    """Events tierbridge does not act on give an empty list."""
    assert parse_events("jira-l2", {}, _body("worklog_created")) == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "not valid JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b'{"issue": {"id": "1"}}', "no 'webhookEvent'"),
        (b'{"webhookEvent": "jira:issue_updated"}', "no 'issue' object"),
        (b'{"webhookEvent": "jira:issue_updated", "issue": {"key": "A-1"}}', "no 'issue.id'"),
        (
            b'{"webhookEvent": "jira:issue_updated", "issue": {"id": "1", "fields": '
            b'{"updated": "yesterday"}}}',
            "not a Jira timestamp",
        ),
    ],
)
def test_parse_malformed(body: bytes, message: str) -> None:
    """Malformed bodies raise WebhookPayloadError naming the problem."""
    with pytest.raises(WebhookPayloadError, match=message):
        parse_events("jira-l2", {}, body)


_STATUS_ITEM = {"field": "status", "fromString": "Open", "toString": "In Progress"}
_FILE_ITEM = {"field": "Attachment", "fromString": None, "toString": "log.txt"}


@pytest.mark.parametrize(
    ("payload", "touched"),
    [
        ({"webhookEvent": "comment_created"}, {"comments"}),
        ({"webhookEvent": "comment_updated"}, {"comments"}),
        (
            {"webhookEvent": "jira:issue_updated", "changelog": {"items": [_STATUS_ITEM]}},
            frozenset(),
        ),
        (
            {"webhookEvent": "jira:issue_updated", "changelog": {"items": [_FILE_ITEM]}},
            {"attachments"},
        ),
        (
            {"webhookEvent": "jira:issue_updated", "issue_event_type_name": "issue_commented"},
            {"comments"},
        ),
        ({"webhookEvent": "jira:issue_updated", "comment": {"id": "10310"}}, {"comments"}),
        ({"webhookEvent": "jira:issue_updated"}, None),
        ({"webhookEvent": "jira:issue_created", "changelog": {"items": []}}, None),
    ],
)
def test_lists_touched(payload: dict[str, object], touched: set[str] | None) -> None:
    """Only comment events, comment issue events and changelogs may spare a list read."""
    assert lists_touched(payload) == touched
