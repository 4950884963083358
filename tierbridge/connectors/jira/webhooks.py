"""Check and read Jira Cloud admin webhooks.

Jira signs the raw body with the webhook's secret and sends `X-Hub-Signature:
sha256=<lower-case hex HMAC-SHA256>`. A comment arrives twice, as `comment_created` and as a
`jira:issue_updated` with `issue_event_type_name: issue_commented`; both become events and the
engine drops the second by version. A new attachment arrives as `attachment_created`, whose
body names no issue and is ignored, and as a `jira:issue_updated` with a changelog item for
the `Attachment` field, which becomes the issue's `updated` event.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from tierbridge.connectors.jira.records import format_version, parse_jira_time
from tierbridge.core.connector import IntakeEvent
from tierbridge.core.errors import WebhookAuthError, WebhookPayloadError

__all__ = ["DEFAULT_SIGNATURE_HEADER", "parse_events", "verify_signature"]

DEFAULT_SIGNATURE_HEADER = "X-Hub-Signature"
_DELIVERY_HEADER = "x-atlassian-webhook-identifier"
_KINDS = {
    "jira:issue_created": "created",
    "jira:issue_updated": "updated",
    "comment_created": "commented",
    "comment_updated": "commented",
}


def _header(headers: Mapping[str, str], name: str) -> str | None:
    lowered = name.lower()
    return next((value for key, value in headers.items() if key.lower() == lowered), None)


def verify_signature(headers: Mapping[str, str], body: bytes, secret: str, header: str) -> None:
    """Raise WebhookAuthError unless `header` contains `sha256=` + HMAC-SHA256(secret, body)."""
    value = _header(headers, header)
    if value is None:
        raise WebhookAuthError(f"missing {header} header; set a secret on the Jira webhook")
    algorithm, _, signature = value.strip().partition("=")
    if algorithm != "sha256" or not signature:
        raise WebhookAuthError(f"{header} must have the form sha256=<hex>")
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature.lower()):
        raise WebhookAuthError(f"{header} does not match the body; check the webhook secret")


def _load(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise WebhookPayloadError("webhook body is not valid JSON") from exc
    if not isinstance(payload, dict):
        raise WebhookPayloadError("webhook body must be a JSON object")
    return payload


def _issue_id(payload: Mapping[str, Any]) -> str:
    issue = payload.get("issue")
    if not isinstance(issue, Mapping):
        raise WebhookPayloadError("webhook body has no 'issue' object")
    issue_id = issue.get("id")
    if not isinstance(issue_id, str | int) or isinstance(issue_id, bool) or not str(issue_id):
        raise WebhookPayloadError("webhook body has no 'issue.id'")
    return str(issue_id)


def _version(payload: Mapping[str, Any]) -> str | None:
    fields = payload["issue"].get("fields")
    updated = fields.get("updated") if isinstance(fields, Mapping) else None
    if updated is None:
        return None
    if not isinstance(updated, str):
        raise WebhookPayloadError("'issue.fields.updated' must be a timestamp string")
    try:
        return format_version(parse_jira_time(updated))
    except ValueError as exc:
        raise WebhookPayloadError("'issue.fields.updated' is not a Jira timestamp") from exc


def parse_events(connector: str, headers: Mapping[str, str], body: bytes) -> list[IntakeEvent]:
    """Return the events in a webhook body; other event types give an empty list."""
    payload = _load(body)
    event = payload.get("webhookEvent")
    if not isinstance(event, str):
        raise WebhookPayloadError("webhook body has no 'webhookEvent' string")
    kind = _KINDS.get(event)
    if kind is None:
        return []
    if event == "jira:issue_updated" and payload.get("issue_event_type_name") == "issue_commented":
        kind = "commented"
    issue_id = _issue_id(payload)
    delivery_id = _header(headers, _DELIVERY_HEADER)
    if not delivery_id:
        delivery_id = f"{event}:{issue_id}:{payload.get('timestamp')}"
    return [
        IntakeEvent(
            connector=connector,
            delivery_id=delivery_id,
            ticket_id=issue_id,
            kind=kind,
            version=_version(payload),
            payload=payload,
        )
    ]


#: `issue_event_type_name` values of a JSM issue event that changes a comment.
_COMMENT_EVENT_TYPES = frozenset(
    {"issue_commented", "issue_comment_edited", "issue_comment_deleted"}
)


def lists_touched(payload: Mapping[str, Any]) -> frozenset[str] | None:
    """Say which lists a stored webhook shows changed, or None when it cannot tell.

    Comment events and issue events of a comment touch the comments; a changelog item named
    `Attachment` touches the files. An issue update without a changelog or a comment, and
    a new issue, tell nothing.
    """
    event = payload.get("webhookEvent")
    if event in ("comment_created", "comment_updated", "comment_deleted"):
        return frozenset({"comments"})
    if event != "jira:issue_updated":
        return None
    touched: set[str] = set()
    if "comment" in payload or payload.get("issue_event_type_name") in _COMMENT_EVENT_TYPES:
        touched.add("comments")
    changelog = payload.get("changelog")
    items = changelog.get("items") if isinstance(changelog, Mapping) else None
    if not isinstance(items, list):
        return frozenset(touched) if touched else None
    if any(isinstance(item, Mapping) and item.get("field") == "Attachment" for item in items):
        touched.add("attachments")
    return frozenset(touched)
