"""Check and parse the change notices that tierbridge's ServiceNow business rule posts.

The rule sends compact JSON such as
`{"event":"incident.updated","table":"incident","sys_id":"…","number":"INC0010023",
"sys_updated_on":"2024-05-01 09:03:10","sys_mod_count":"4","updated_by":"alex.doe",
"changed":["state"]}` with a base64 HMAC-SHA256 of the raw body in the signature header and a
per-change GUID in `X-Snow-Delivery-Id`, repeated on retries.

A second rule, on sys_attachment, sends `<table>.attachment_added` for a file attached to a
record, with the record's keys and an `attachment_sys_id`. It is parsed as an `updated`
event, since the engine reads the record and lists its files again for every event.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from tierbridge.connectors.servicenow.records import version_of
from tierbridge.core.connector import IntakeEvent
from tierbridge.core.errors import WebhookAuthError, WebhookPayloadError

__all__ = ["DELIVERY_HEADER", "parse_notice", "signature", "verify_signature"]

DELIVERY_HEADER = "X-Snow-Delivery-Id"
_KINDS = {"created": "created", "updated": "updated", "attachment_added": "updated"}


def signature(secret: str, body: bytes) -> str:
    """Return the base64 HMAC-SHA256 of the raw body, keyed with the secret's UTF-8 bytes."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), None)


def verify_signature(headers: Mapping[str, str], body: bytes, *, header: str, secret: str) -> None:
    """Raise WebhookAuthError unless `header` carries the body's signature under `secret`."""
    sent = _header(headers, header)
    if sent is None or not sent.strip():
        msg = f"missing {header} header; check that the business rule signs its notices"
        raise WebhookAuthError(msg)
    expected = signature(secret, body)
    if not hmac.compare_digest(expected.encode("ascii"), sent.strip().encode("ascii", "replace")):
        msg = f"{header} does not match the body; check that both sides use the same shared key"
        raise WebhookAuthError(msg)


def _load(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise WebhookPayloadError(f"body is not JSON ({exc.__class__.__name__})") from exc
    if not isinstance(payload, dict):
        raise WebhookPayloadError("body is not a JSON object")
    return payload


def _fallback_delivery_id(payload: Mapping[str, Any], version: str | None) -> str:
    """Build a delivery id for a notice sent without `X-Snow-Delivery-Id`.

    A file notice carries the record's unchanged sys_mod_count, so it is keyed by the
    attachment's sys_id. A record notice is keyed by its sys_mod_count.
    """
    sys_id = payload["sys_id"]
    attachment = payload.get("attachment_sys_id")
    if isinstance(attachment, str) and attachment:
        return f"{sys_id}:attachment:{attachment}"
    if version is None:
        raise WebhookPayloadError(f"notice has neither {DELIVERY_HEADER} nor a sys_mod_count key")
    return f"{sys_id}:{payload['sys_mod_count']}"


def parse_notice(
    connector: str, table: str, headers: Mapping[str, str], body: bytes
) -> list[IntakeEvent]:
    """Turn one notice into one event; notices for other tables or events give an empty list."""
    payload = _load(body)
    sys_id = payload.get("sys_id")
    if not isinstance(sys_id, str) or not sys_id:
        raise WebhookPayloadError("notice has no sys_id key; check the business rule's payload")

    kind = _KINDS.get(str(payload.get("event", "updated")).rpartition(".")[2])
    if kind is None or payload.get("table", table) != table:
        return []

    mod_count = payload.get("sys_mod_count")
    try:
        version = version_of(str(mod_count)) if mod_count not in (None, "") else None
    except ValueError as exc:
        raise WebhookPayloadError(f"sys_mod_count {mod_count!r} is not a number") from exc

    delivery_id = _header(headers, DELIVERY_HEADER) or _fallback_delivery_id(payload, version)
    event = IntakeEvent(
        connector=connector,
        delivery_id=delivery_id,
        ticket_id=sys_id,
        kind=kind,
        version=version,
        payload=payload,
    )
    return [event]


#: Journal fields whose change a notice lists in `changed`.
_JOURNAL_FIELDS = frozenset({"comments", "work_notes"})


def lists_touched(payload: Mapping[str, Any]) -> frozenset[str] | None:
    """Say which lists a stored notice shows changed, or None when it cannot tell.

    The business rule lists changed journal fields in `changed`, and the attachment rule sends
    its own event. A notice of a new record, or one without `changed`, gives no such information.
    """
    event = str(payload.get("event", ""))
    if event.endswith(".attachment_added"):
        return frozenset({"attachments"})
    changed = payload.get("changed")
    if not event.endswith(".updated") or not isinstance(changed, list):
        return None
    return frozenset({"comments"}) if _JOURNAL_FIELDS & set(changed) else frozenset()
