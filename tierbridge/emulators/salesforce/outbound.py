"""Outbound Messages: SOAP notifications of record changes, retried until acknowledged.

Each watched object has its own outbound message (an ActionId). A change queues one
Notification with its own id. The sender packs up to 100 queued notifications of one action
into a message and posts it. The record's fields are read when a message is sent, so a
notification carries the values current at that moment, and only the Id once the record is
deleted. A message counts as delivered only when the response is HTTP 200 with
`<Ack>true</Ack>`; otherwise it is sent again after a doubling pause (capped at
`retry_cap_seconds`) until `retry_window_seconds` have passed, and then dropped. Retries
keep their notification ids and may overtake newer messages, as in an org.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from xml.sax.saxutils import escape

import requests
import structlog
from defusedxml import ElementTree

from tierbridge.emulators.salesforce.fieldpaths import render_value
from tierbridge.emulators.salesforce.state import ChangeEvent, SalesforceState

__all__ = ["DEFAULT_FIELDS", "DeliveryStats", "OutboundMessenger", "is_ack"]

_log = structlog.get_logger("tierbridge.emulators.salesforce.outbound")

#: Fields each outbound message sends, as an admin would pick them.
DEFAULT_FIELDS: Mapping[str, tuple[str, ...]] = {
    "Case": (
        "Id",
        "CaseNumber",
        "Status",
        "Priority",
        "IsClosed",
        "OwnerId",
        "LastModifiedById",
        "CreatedDate",
        "SystemModstamp",
    ),
    "CaseComment": ("Id", "ParentId", "IsPublished", "CreatedById", "SystemModstamp"),
}
_MAX_NOTIFICATIONS = 100
_SOAP_VERSION = "62.0"


def is_ack(status: int, body: bytes) -> bool:
    """Tell whether a response acknowledges a message: HTTP 200 and `Ack` true."""
    if status != 200:
        return False
    try:
        root = ElementTree.fromstring(body, forbid_dtd=True)
    except Exception:  # defusedxml raises several unrelated classes for bad XML
        return False
    acks = [node for node in root.iter() if str(node.tag).rpartition("}")[2] == "Ack"]
    return any((node.text or "").strip().lower() == "true" for node in acks)


@dataclass(frozen=True)
class _Notification:
    action: str
    notification_id: str
    record_id: str


@dataclass
class _Message:
    action: str
    notifications: list[_Notification]
    first_try: float
    due: float
    attempts: int = 0


@dataclass
class DeliveryStats:
    """Counts of notifications acknowledged and dropped, and of failed attempts."""

    delivered: int = 0
    dropped: int = 0
    failed_attempts: int = 0
    messages: list[int] = field(default_factory=list)


class OutboundMessenger:
    """A state listener that sends outbound messages from one background thread."""

    def __init__(
        self,
        state: SalesforceState,
        base_url: Callable[[], str],
        *,
        objects: Sequence[str] = ("Case", "CaseComment"),
        url: str | None = None,
        token: str | None = None,
        retry_base_seconds: float = 0.1,
        retry_cap_seconds: float = 5.0,
        retry_window_seconds: float = 24 * 3600.0,
        timeout_seconds: float = 60.0,
    ) -> None:
        self.url = url
        self.token = token
        self.stats = DeliveryStats()
        self._state = state
        self._base_url = base_url
        self._actions = {name: state.new_id("04k") for name in objects}
        self._retry_base = retry_base_seconds
        self._retry_cap = retry_cap_seconds
        #: Seconds after the first attempt when an unacknowledged message is dropped.
        self.retry_window_seconds = retry_window_seconds
        self._timeout = timeout_seconds
        self._queued: list[_Notification] = []
        self._waiting: list[_Message] = []
        self._busy = False
        self._stopping = False
        self._condition = threading.Condition()
        self._session = requests.Session()
        self._thread = threading.Thread(target=self._run, name="emulator-outbound", daemon=True)
        self._thread.start()

    def action_id(self, object_name: str) -> str:
        """Return the ActionId of the outbound message on one object."""
        return self._actions[object_name]

    def __call__(self, event: ChangeEvent) -> None:
        action = self._actions.get(event.object_name)
        if action is None or event.operation == "delete" or self.url is None:
            return
        notification = _Notification(action, self._state.new_id("04l"), event.record_id)
        with self._condition:
            self._queued.append(notification)
            self._condition.notify_all()

    def drain(self, timeout_seconds: float = 10.0) -> bool:
        """Wait until every notification is acknowledged or dropped; False on timeout."""
        deadline = time.monotonic() + timeout_seconds
        with self._condition:
            while self._queued or self._waiting or self._busy:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._condition.wait(remaining)
        return True

    def clear(self) -> None:
        """Forget every queued and waiting message."""
        with self._condition:
            self._queued.clear()
            self._waiting.clear()
            self._condition.notify_all()

    def reset(self) -> None:
        """Forget every queued and waiting message and zero the counts."""
        self.clear()
        with self._condition:
            self.stats = DeliveryStats()

    def close(self) -> None:
        """Stop the sender thread; messages not yet acknowledged are dropped."""
        with self._condition:
            self._stopping = True
            self._condition.notify_all()
        self._thread.join(timeout=5)
        self._session.close()

    # -- sender thread ---------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._condition:
                message = self._next_due()
                while message is None and not self._stopping:
                    self._condition.wait(self._pause())
                    message = self._next_due()
                if self._stopping or message is None:
                    return
                self._busy = True
            try:
                self._attempt(message)
            finally:
                with self._condition:
                    self._busy = False
                    self._condition.notify_all()

    def _next_due(self) -> _Message | None:
        """Pack queued notifications into messages, then pop the first message that is due."""
        now = time.monotonic()
        while self._queued:
            action = self._queued[0].action
            batch = [n for n in self._queued if n.action == action][:_MAX_NOTIFICATIONS]
            self._queued = [n for n in self._queued if n not in batch]
            self._waiting.append(_Message(action, batch, now, now))
        due = [message for message in self._waiting if message.due <= now]
        if not due:
            return None
        chosen = min(due, key=lambda message: message.due)
        self._waiting.remove(chosen)
        return chosen

    def _pause(self) -> float | None:
        if not self._waiting:
            return None
        return max(min(m.due for m in self._waiting) - time.monotonic(), 0.0)

    def _attempt(self, message: _Message) -> None:
        message.attempts += 1
        url = self.url
        acked = False
        if url is not None:
            body = self.envelope(message.action, message.notifications)
            acked = self._post(url, body, message)
        with self._condition:
            if acked:
                self.stats.delivered += len(message.notifications)
                self.stats.messages.append(len(message.notifications))
                return
            self.stats.failed_attempts += 1
            pause = min(self._retry_cap, self._retry_base * 2 ** (message.attempts - 1))
            message.due = time.monotonic() + pause
            if message.due - message.first_try > self.retry_window_seconds or self._stopping:
                self.stats.dropped += len(message.notifications)
                return
            self._waiting.append(message)

    def _post(self, url: str, body: bytes, message: _Message) -> bool:
        headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}
        try:
            response = self._session.post(
                _with_token(url, self.token), data=body, headers=headers, timeout=self._timeout
            )
        except requests.RequestException as exc:
            _log.info("outbound_message_failed", attempt=message.attempts, error=type(exc).__name__)
            return False
        if is_ack(response.status_code, response.content):
            return True
        _log.info("outbound_message_failed", attempt=message.attempts, status=response.status_code)
        return False

    # -- SOAP ------------------------------------------------------------------------------

    def envelope(self, action: str, notifications: Sequence[_Notification]) -> bytes:
        """Build the SOAP envelope of one message from the records' current values."""
        org = self._state.org_id
        base = self._base_url()
        lines = [
            '<?xml version="1.0" encoding="UTF-8"?>',
            '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
            'xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">',
            "<soapenv:Body>",
            '<notifications xmlns="http://soap.sforce.com/2005/09/outbound">',
            f"<OrganizationId>{org}</OrganizationId>",
            f"<ActionId>{action}</ActionId>",
            '<SessionId xsi:nil="true"/>',
            f"<EnterpriseUrl>{base}/services/Soap/c/{_SOAP_VERSION}/{org[:15]}</EnterpriseUrl>",
            f"<PartnerUrl>{base}/services/Soap/u/{_SOAP_VERSION}/{org[:15]}</PartnerUrl>",
        ]
        for notification in notifications:
            lines.extend(self._notification(notification))
        lines.extend(["</notifications>", "</soapenv:Body>", "</soapenv:Envelope>"])
        return "\n".join(lines).encode("utf-8")

    def _notification(self, notification: _Notification) -> list[str]:
        object_name = next(name for name, a in self._actions.items() if a == notification.action)
        found = self._state.find(notification.record_id)
        record: Mapping[str, Any] = {"Id": notification.record_id}
        if found is not None and not found[1].get("IsDeleted"):
            record = found[1]
        lines = [
            "<Notification>",
            f"<Id>{notification.notification_id}</Id>",
            f'<sObject xsi:type="sf:{object_name}" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">',
        ]
        for name in DEFAULT_FIELDS.get(object_name, ("Id",)):
            value = record.get(name)
            if value is not None:
                lines.append(f"<sf:{name}>{escape(_soap_value(value))}</sf:{name}>")
        lines.extend(["</sObject>", "</Notification>"])
        return lines


def _soap_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    rendered = str(render_value(value))
    # xsd:dateTime in outbound messages ends in Z, not +0000.
    return rendered[:-5] + "Z" if rendered.endswith("+0000") else rendered


def _with_token(url: str, token: str | None) -> str:
    if token is None:
        return url
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "token"] + [("token", token)]
    return urlunsplit(parts._replace(query=urlencode(query)))
