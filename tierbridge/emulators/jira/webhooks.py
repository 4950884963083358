"""Build and sign the emulator's outgoing webhooks the way a Jira Cloud admin webhook sends them.

Bodies are serialised like REST API v2 (description and comment bodies as wiki markup). A
delivery carries `X-Atlassian-Webhook-Identifier`, unique per event and unchanged on retries,
and, when a secret is set, `X-Hub-Signature: sha256=<hex HMAC-SHA256 of the raw body>`.
Timestamps inside the body are rendered in the acting user's time zone. An
`attachment_created` body carries the `attachment` and no `issue`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Mapping
from typing import Any

from tierbridge.emulators._webhooks import WebhookSender
from tierbridge.emulators.jira.render import Renderer
from tierbridge.emulators.jira.state import Change, ChangeItem
from tierbridge.emulators.jira.wire import epoch_ms

__all__ = ["WebhookEmitter", "sign_body"]

_TRIMMED_ISSUE_FIELDS = frozenset(
    {"summary", "issuetype", "project", "assignee", "priority", "status"}
)


def sign_body(secret: str, body: bytes) -> str:
    """Return the `X-Hub-Signature` value for `body`."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


class WebhookEmitter:
    """Turns state changes into signed deliveries queued on a WebhookSender."""

    def __init__(self, renderer: Renderer, url: str | None, secret: str | None) -> None:
        self._renderer = renderer
        self._secret = secret
        self.sender = WebhookSender(self._sign, url=url)

    def set_target(self, url: str | None, secret: str | None) -> None:
        self.sender.url = url
        self._secret = secret

    def publish(self, change: Change) -> None:
        body = json.dumps(self.payload(change), separators=(",", ":")).encode()
        headers = {
            "X-Atlassian-Webhook-Identifier": str(uuid.uuid4()),
            "X-Atlassian-Webhook-Flow": "Primary",
        }
        self.sender.send(body, headers)

    def payload(self, change: Change) -> dict[str, Any]:
        """Return the JSON body Jira sends for `change`."""
        zone = change.actor.time_zone
        body: dict[str, Any] = {
            "timestamp": epoch_ms(change.at),
            "webhookEvent": change.webhook_event,
        }
        if change.attachment is not None:
            # Attachment events name the file only, not the issue it belongs to.
            body["attachment"] = self._renderer.attachment(change.attachment, zone, api="2")
            return body
        issue = self._renderer.issue(change.issue, zone, api="2")
        if change.webhook_event == "comment_created":
            issue["fields"] = {
                name: value
                for name, value in issue["fields"].items()
                if name in _TRIMMED_ISSUE_FIELDS
            }
        else:
            body["issue_event_type_name"] = change.event_type
            body["user"] = self._renderer.user(change.actor.account_id, api="2")
            issue["fields"].pop("comment", None)
        body["issue"] = issue
        if change.comment is not None:
            body["comment"] = self._renderer.comment(change.comment, change.issue, zone, api="2")
        if change.changelog_id is not None:
            body["changelog"] = {
                "id": str(change.changelog_id),
                "items": [_item_json(item) for item in change.items],
            }
        return body

    def _sign(self, body: bytes) -> Mapping[str, str]:
        if not self._secret:
            return {}
        return {"X-Hub-Signature": sign_body(self._secret, body)}


def _item_json(item: ChangeItem) -> dict[str, Any]:
    return {
        "field": item.field,
        "fieldtype": "custom" if item.custom else "jira",
        "fieldId": item.field_id,
        "from": item.from_id,
        "fromString": item.from_string,
        "to": item.to_id,
        "toString": item.to_string,
    }
