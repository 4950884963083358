"""Check and read Salesforce Outbound Messages (SOAP 1.1 notifications).

Outbound Messages carry no signature. A message is accepted when the shared token matches
(the endpoint URL's `token` query parameter, or a configured header) and the body's
`OrganizationId` is the configured org. The XML parser refuses DTDs, entities and external
references. Each `Notification` becomes one event keyed on its Notification Id, which an org
repeats when it resends a message, and versioned by the record's `SystemModstamp`, so events
that arrive late or out of order are recognised as older. A notification on a CaseComment
becomes an event for its parent Case. Salesforce resends a message until the response is
HTTP 200 with the SOAP `notificationsResponse` whose `Ack` is true (`ACK_BODY`).
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeElementTree

from tierbridge.connectors.salesforce.ids import normalize_id
from tierbridge.connectors.salesforce.records import format_version, parse_timestamp
from tierbridge.core.connector import IntakeEvent
from tierbridge.core.errors import WebhookAuthError, WebhookPayloadError

__all__ = [
    "ACK_BODY",
    "ACK_CONTENT_TYPE",
    "QUERY_PARAMETER",
    "parse_envelope",
    "parse_notifications",
    "verify_message",
]

#: Query parameter of the endpoint URL that carries the shared token.
QUERY_PARAMETER = "token"
ACK_CONTENT_TYPE = "text/xml; charset=utf-8"
ACK_BODY = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">\n'
    b"<soapenv:Body>\n"
    b'<notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound">\n'
    b"<Ack>true</Ack>\n"
    b"</notificationsResponse>\n"
    b"</soapenv:Body>\n"
    b"</soapenv:Envelope>\n"
)
_OUTBOUND = "{http://soap.sforce.com/2005/09/outbound}"
_XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"


def _lookup(mapping: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((value for key, value in mapping.items() if key.lower() == wanted), None)


def _token_matches(sent: str | None, expected: str) -> bool:
    if not sent:
        return False
    return hmac.compare_digest(sent.encode("utf-8"), expected.encode("utf-8"))


def parse_envelope(body: bytes) -> Element:
    """Parse the body and return its `notifications` element; raise WebhookPayloadError."""
    try:
        root = SafeElementTree.fromstring(body, forbid_dtd=True)
    except DefusedXmlException as exc:
        msg = f"body uses a forbidden XML feature ({type(exc).__name__}); it is not an outbound message"
        raise WebhookPayloadError(msg) from exc
    except SafeElementTree.ParseError as exc:
        raise WebhookPayloadError(f"body is not well-formed XML ({exc})") from exc
    found: Element | None = root.find(f".//{_OUTBOUND}notifications")
    if found is None:
        raise WebhookPayloadError(
            "body has no notifications element; it is not an outbound message"
        )
    return found


def verify_message(
    headers: Mapping[str, str],
    query: Mapping[str, str],
    body: bytes,
    *,
    token: str,
    token_header: str | None,
    organization_id: str,
) -> None:
    """Raise WebhookAuthError unless the token matches and the message is from our org.

    The token is checked before the body is parsed. A body that is not an outbound message
    raises WebhookPayloadError.
    """
    sent = _lookup(query, QUERY_PARAMETER)
    if sent is None and token_header is not None:
        sent = _lookup(headers, token_header)
    if not _token_matches(sent, token):
        where = (
            f"?{QUERY_PARAMETER}= or the {token_header} header"
            if token_header
            else f"?{QUERY_PARAMETER}="
        )
        msg = f"missing or wrong token in {where}; check the outbound message's endpoint URL"
        raise WebhookAuthError(msg)

    text = (parse_envelope(body).findtext(f"{_OUTBOUND}OrganizationId") or "").strip()
    try:
        org_id = normalize_id(text)
    except ValueError:
        org_id = None
    if org_id != organization_id:
        msg = f"message is from organization {text or '(none)'}, not {organization_id}"
        raise WebhookAuthError(msg)


def _fields(sobject: Element) -> dict[str, str]:
    return {str(child.tag).rpartition("}")[2]: (child.text or "").strip() for child in sobject}


def _normalized(value: str, what: str) -> str:
    try:
        return normalize_id(value)
    except ValueError as exc:
        raise WebhookPayloadError(f"{what} {value!r} is not a Salesforce id") from exc


def _event(connector: str, action: str, notification: Element) -> IntakeEvent | None:
    notification_id = _normalized(notification.findtext(f"{_OUTBOUND}Id") or "", "Notification Id")
    sobject = notification.find(f"{_OUTBOUND}sObject")
    if sobject is None:
        raise WebhookPayloadError(f"notification {notification_id} has no sObject")
    object_type = sobject.get(_XSI_TYPE, "").rpartition(":")[2]
    values = _fields(sobject)
    if object_type == "Case":
        ticket_id, kind = _normalized(values.get("Id", ""), "Case Id"), "updated"
        if values.get("CreatedDate") and values.get("CreatedDate") == values.get("SystemModstamp"):
            kind = "created"
    elif object_type == "CaseComment":
        ticket_id, kind = (
            _normalized(values.get("ParentId", ""), "CaseComment ParentId"),
            "commented",
        )
    else:
        return None

    version = None
    if values.get("SystemModstamp"):
        try:
            version = format_version(parse_timestamp(values["SystemModstamp"]))
        except ValueError as exc:
            raise WebhookPayloadError(
                f"notification {notification_id} has a bad SystemModstamp"
            ) from exc
    payload: dict[str, Any] = {
        "object": object_type,
        "record_id": _normalized(values.get("Id", ""), f"{object_type} Id"),
        "action_id": action,
        "notification_id": notification_id,
    }
    return IntakeEvent(connector, notification_id, ticket_id, kind, version, payload=payload)


def parse_notifications(connector: str, body: bytes) -> list[IntakeEvent]:
    """Return one event per distinct Notification Id, skipping objects other than Case and CaseComment."""
    notifications = parse_envelope(body)
    action = (notifications.findtext(f"{_OUTBOUND}ActionId") or "").strip()
    events: dict[str, IntakeEvent] = {}
    for notification in notifications.findall(f"{_OUTBOUND}Notification"):
        event = _event(connector, action, notification)
        if event is not None:
            events.setdefault(event.delivery_id, event)
    return list(events.values())
