"""The push half of the emulator: the business rules that notify tierbridge of changes.

ServiceNow has no standard webhook, so tierbridge ships a business rule (after insert and
update, on the incident table) that posts a small signed JSON notice, and a second one (after
insert, on sys_attachment) that posts a notice naming the record a file was attached to.
Attaching a file changes none of the record's fields, so the first rule does not fire for it.
This module behaves as those rules do. The signature is the base64 HMAC-SHA256 of the raw body, keyed with the
shared key's bytes, which is what `CertificateEncryption.generateMac(base64Key, "HmacSHA256",
body)` returns when given the key base64-encoded.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping

from tierbridge.emulators._webhooks import WebhookSender
from tierbridge.emulators.servicenow.state import ChangeEvent

__all__ = [
    "DELIVERY_HEADER",
    "SIGNATURE_HEADER",
    "BusinessRule",
    "attachment_notice_body",
    "notice_body",
    "sign",
]

SIGNATURE_HEADER = "X-Snow-Signature"
DELIVERY_HEADER = "X-Snow-Delivery-Id"


def sign(secret: str, body: bytes) -> str:
    """Return the base64 HMAC-SHA256 of `body` keyed with the UTF-8 bytes of `secret`."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def notice_body(event: ChangeEvent) -> bytes:
    """Serialise a change the way the business rule does: compact JSON, fixed key order."""
    record = event.record
    notice = {
        "event": f"{event.table}.{'created' if event.operation == 'insert' else 'updated'}",
        "table": event.table,
        "sys_id": record["sys_id"],
        "number": record.get("number", ""),
        "sys_updated_on": record["sys_updated_on"],
        "sys_mod_count": record["sys_mod_count"],
        "updated_by": record["sys_updated_by"],
        "changed": list(event.changed),
    }
    return json.dumps(notice, separators=(",", ":")).encode("utf-8")


def attachment_notice_body(event: ChangeEvent) -> bytes:
    """Serialise an attached file the way the sys_attachment rule does.

    The notice has the keys of a record's notice and describes the parent record, whose
    sys_updated_on and sys_mod_count are unchanged by the attachment. `updated_by` is the
    user who attached the file, and `attachment_sys_id` names the new sys_attachment row.
    """
    attachment = event.record
    parent = event.parent or {}
    table = attachment["table_name"]
    notice = {
        "event": f"{table}.attachment_added",
        "table": table,
        "sys_id": attachment["table_sys_id"],
        "number": parent.get("number", ""),
        "sys_updated_on": parent.get("sys_updated_on", ""),
        "sys_mod_count": parent.get("sys_mod_count", ""),
        "updated_by": attachment["sys_created_by"],
        "changed": [],
        "attachment_sys_id": attachment["sys_id"],
    }
    return json.dumps(notice, separators=(",", ":")).encode("utf-8")


class BusinessRule:
    """A state listener that queues one signed notice per change or new file of watched tables.

    `url=None` sends nothing until `sender.url` is set. The delivery id is drawn once per
    change and travels with the queued notice, so the sender's retries repeat it.
    """

    def __init__(
        self,
        new_guid: Callable[[], str],
        *,
        url: str | None,
        secret: str | None,
        tables: tuple[str, ...] = ("incident", "sn_customerservice_case"),
    ) -> None:
        self.secret = secret
        self.sender = WebhookSender(self.signature_headers, url=url)
        self._new_guid = new_guid
        self._tables = tables

    def signature_headers(self, body: bytes) -> Mapping[str, str]:
        """Sign a body with the current secret; no secret means an unsigned notice."""
        if self.secret is None:
            return {}
        return {SIGNATURE_HEADER: sign(self.secret, body)}

    def __call__(self, event: ChangeEvent) -> None:
        if event.table == "sys_attachment":
            if event.record.get("table_name") in self._tables:
                body = attachment_notice_body(event)
                self.sender.send(body, {DELIVERY_HEADER: self._new_guid()})
            return
        if event.table not in self._tables:
            return
        self.sender.send(notice_body(event), {DELIVERY_HEADER: self._new_guid()})
