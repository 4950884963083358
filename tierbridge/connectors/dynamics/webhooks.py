"""Check and read Dataverse webhooks: a serialised `RemoteExecutionContext` per change.

Authentication is a static shared value, never a signature: the `HttpHeader` option sends
it in a header, the `WebhookKey` option as the `code` query parameter. It is compared in
constant time before the body is parsed. `WebhookKey` needs the query string under the
pseudo-header `:query`, a name no HTTP/1.1 client can send. NOTE: the intake server
(`core/server.py`) does not add `:query` yet, so it rejects every `WebhookKey` request.

The body contains key/value lists (`InputParameters`, `PostEntityImages`), typed values with
`__type` and WCF dates (`/Date(1714547742000)/`, sometimes with a `+0000` offset that does
not change the instant). Case Create and Update and note Create become events; other
messages and tables are ignored. A new note with a file is an `attached` event, any other
new note a `commented` one.

Dataverse sends no delivery id. The dedupe key is built from `OperationId`, the system job
of an asynchronous step, which a retried delivery resends. A synchronous step sends an empty
OperationId, so then `RequestId` is used. `CorrelationId` is not used, because
every operation that one request sets off shares it: an update made by a plug-in in reply
to ours would be dropped as a duplicate. Without either id the SHA-256 of the body is used.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import structlog

from tierbridge.connectors.dynamics.records import version_of
from tierbridge.core.connector import IntakeEvent
from tierbridge.core.errors import WebhookAuthError, WebhookPayloadError

__all__ = [
    "POST_IMAGE",
    "QUERY_KEY",
    "parse_context",
    "parse_wcf_date",
    "verify_header",
    "verify_webhook_key",
]

_log = structlog.get_logger(__name__)
#: Pseudo-header under which the intake server passes the request's raw query string.
QUERY_KEY = ":query"
#: Alias of the post-image registered on the webhook steps.
POST_IMAGE = "PostImage"
_WCF_DATE = re.compile(r"^/Date\((?P<ms>-?\d+)(?P<offset>[+-]\d{4})?\)/$")
_EMPTY_GUID = "00000000-0000-0000-0000-000000000000"
_KINDS = {
    ("incident", "Create"): "created",
    ("incident", "Update"): "updated",
    ("annotation", "Create"): "commented",
}


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), None)


def _same(expected: str, sent: str) -> bool:
    return hmac.compare_digest(expected.encode("utf-8"), sent.encode("utf-8"))


def verify_header(headers: Mapping[str, str], *, header: str, secret: str) -> None:
    """Raise WebhookAuthError unless `header` carries the shared value (`HttpHeader` auth)."""
    sent = _header(headers, header)
    if sent is None or not sent:
        raise WebhookAuthError(
            f"missing {header} header; add it to the service endpoint's HttpHeader values"
        )
    if not _same(secret, sent):
        raise WebhookAuthError(f"{header} does not match; check that both sides use the same value")


def verify_webhook_key(headers: Mapping[str, str], *, secret: str) -> None:
    """Raise WebhookAuthError unless the query parameter `code` is the shared value (`WebhookKey`)."""
    query = _header(headers, QUERY_KEY)
    if query is None:
        msg = "the request's query string did not reach the connector, so the webhook key cannot be checked"
        raise WebhookAuthError(msg)
    codes = parse_qs(query, keep_blank_values=True).get("code", [])
    if len(codes) != 1:
        raise WebhookAuthError(
            "webhook URL needs exactly one code parameter; check the WebhookKey value"
        )
    if not _same(secret, codes[0]):
        raise WebhookAuthError(
            "code parameter does not match; check the service endpoint's WebhookKey"
        )


def parse_wcf_date(text: Any) -> datetime:
    """Parse `/Date(<epoch ms>[±hhmm])/` into an aware UTC datetime; raise ValueError if malformed."""
    match = _WCF_DATE.match(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"not a WCF date: {text!r}")
    return datetime.fromtimestamp(int(match["ms"]) / 1000, UTC)


def _load(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise WebhookPayloadError(f"body is not JSON ({type(exc).__name__})") from exc
    if not isinstance(payload, dict):
        raise WebhookPayloadError("body is not a JSON object")
    return payload


def _pairs(items: Any, where: str) -> dict[str, Any]:
    """Turn a `[{"key": …, "value": …}]` list into a dict."""
    if items is None:
        return {}
    if not isinstance(items, list) or not all(isinstance(i, dict) and "key" in i for i in items):
        raise WebhookPayloadError(f"{where} is not a list of key/value pairs")
    return {str(item["key"]): item.get("value") for item in items}


def _attributes(entity: Any, where: str) -> dict[str, Any]:
    if entity is None:
        return {}
    if not isinstance(entity, dict):
        raise WebhookPayloadError(f"{where} is not an entity object")
    return _pairs(entity.get("Attributes"), f"{where}.Attributes")


def _version(image: Mapping[str, Any]) -> str | None:
    raw = image.get("versionnumber")
    if raw is None:
        return None
    try:
        return version_of(raw)
    except (TypeError, ValueError) as exc:
        raise WebhookPayloadError(f"{POST_IMAGE} versionnumber {raw!r} is not a number") from exc


def _delivery_id(payload: Mapping[str, Any], body: bytes) -> str:
    for name in ("OperationId", "RequestId"):
        value = payload.get(name)
        if isinstance(value, str) and value and value != _EMPTY_GUID:
            return f"{name}:{value}:{payload.get('MessageName')}:{payload.get('PrimaryEntityId')}"
    return "sha256:" + hashlib.sha256(body).hexdigest()


def _note_target(target: Mapping[str, Any], image: Mapping[str, Any]) -> str | None:
    """Return the case id a note hangs off, from Target or the post-image; None if not a case."""
    reference = target.get("objectid") or image.get("objectid")
    if not isinstance(reference, dict) or reference.get("LogicalName") != "incident":
        return None
    case_id = reference.get("Id")
    return str(case_id) if case_id else None


def _note_event(
    connector: str, headers: Mapping[str, str], target: Mapping[str, Any], image: Mapping[str, Any]
) -> tuple[str, str] | None:
    """Return (case id, event kind) for a new note, or None when the body names no case.

    A note with a file is `attached`, any other note `commented`.
    """
    case_id = _note_target(target, image)
    if case_id is not None:
        has_file = target.get("isdocument") is True or image.get("isdocument") is True
        return case_id.lower(), "attached" if has_file else "commented"
    if _header(headers, "x-ms-dynamics-msg-size-exceeded") is not None:
        # NOTE: Target carries a file's Base64 documentbody, so a file above about 190 KB
        # makes the body exceed 256 KB and lose Target and the images. Nothing left names the
        # case, and polls miss the note too, because a note leaves the case's modifiedon as
        # it was. No event reports such a file.
        _log.warning("webhook_note_ignored", connector=connector, reason="body cut for size")
    else:
        _log.info("webhook_note_ignored", connector=connector, reason="no case reference")
    return None


def _summary(payload: Mapping[str, Any]) -> dict[str, Any]:
    """Return the context's routing facts to keep with the event, without the record's values."""
    created = payload.get("OperationCreatedOn")
    try:
        created_text = parse_wcf_date(created).isoformat() if created is not None else None
    except ValueError as exc:
        raise WebhookPayloadError(f"OperationCreatedOn {created!r} is not a WCF date") from exc
    keys = (
        "MessageName",
        "PrimaryEntityName",
        "PrimaryEntityId",
        "CorrelationId",
        "Depth",
        "UserId",
    )
    return {**{key: payload.get(key) for key in keys}, "OperationCreatedOn": created_text}


def parse_context(connector: str, headers: Mapping[str, str], body: bytes) -> list[IntakeEvent]:
    """Turn one RemoteExecutionContext into at most one event."""
    payload = _load(body)
    entity = payload.get("PrimaryEntityName")
    message = payload.get("MessageName")
    record_id = payload.get("PrimaryEntityId")
    if (
        not isinstance(entity, str)
        or not isinstance(message, str)
        or not isinstance(record_id, str)
        or not record_id
    ):
        raise WebhookPayloadError("body lacks MessageName, PrimaryEntityName or PrimaryEntityId")
    kind = _KINDS.get((entity, message))
    summary = _summary(payload)
    if kind is None:
        return []

    target = _attributes(
        _pairs(payload.get("InputParameters"), "InputParameters").get("Target"), "Target"
    )
    image = _attributes(
        _pairs(payload.get("PostEntityImages"), "PostEntityImages").get(POST_IMAGE), POST_IMAGE
    )
    ticket_id = record_id.lower()
    version = _version(image)
    if entity == "annotation":
        note = _note_event(connector, headers, target, image)
        if note is None:
            return []
        ticket_id, kind = note
        version = None
    return [
        IntakeEvent(
            connector=connector,
            delivery_id=_delivery_id(payload, body),
            ticket_id=ticket_id,
            kind=kind,
            version=version,
            payload=summary,
        )
    ]
