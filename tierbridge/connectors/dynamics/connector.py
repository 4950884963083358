"""`DynamicsConnector`: cases (`incident`) of one Dynamics 365 Customer Service organisation."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any, ClassVar

import structlog

from tierbridge.connectors.dynamics import webhooks
from tierbridge.connectors.dynamics.auth import TokenSource
from tierbridge.connectors.dynamics.client import WebApiClient
from tierbridge.connectors.dynamics.files import FileStore
from tierbridge.connectors.dynamics.lookups import LookupCache
from tierbridge.connectors.dynamics.metadata import StatusCatalog, StatusPair
from tierbridge.connectors.dynamics.notes import NoteStore
from tierbridge.connectors.dynamics.records import (
    EXPAND,
    etag_of,
    format_datetime,
    select_for,
    to_native,
)
from tierbridge.connectors.dynamics.settings import DynamicsSettings
from tierbridge.connectors.dynamics.values import WriteValues
from tierbridge.connectors.dynamics.writes import Close, Patch, ReadOnlyCase, plan_writes
from tierbridge.core.connector import Connector, IntakeEvent, NativeRecord
from tierbridge.core.errors import PermanentError, RejectedError, WebhookAuthError
from tierbridge.core.model import AttachmentMeta, Comment

__all__ = ["DynamicsConnector"]

_log = structlog.get_logger(__name__)
_SET = "incidents"


class DynamicsConnector(Connector):
    """Reads and writes cases through the Dataverse Web API v9.2, as the application user.

    Every update sends `If-Match` with the ETag of a read made just before, so a PATCH never
    creates a case and a concurrent change gives a 412 (RejectedError). Safe to share
    between threads; at most `max_concurrent_requests` calls run at once.
    """

    system: ClassVar[str] = "dynamics"
    supports_attachments: ClassVar[bool] = True

    def __init__(
        self, name: str, settings: DynamicsSettings, *, tokens: TokenSource | None = None
    ) -> None:
        super().__init__(name)
        self.settings = settings
        self._client = WebApiClient(settings, name, tokens=tokens)
        self._select = select_for(settings.correlation_field, settings.date_only_fields)
        self._statuses = StatusCatalog(
            lambda path, params: self._client.get(
                path, operation="read status metadata", params=params
            ),
            name,
        )
        lookups = LookupCache(
            lambda entity_set, params: self._client.pages(
                entity_set, params, operation="find lookup"
            ),
            name,
        )
        self._values = WriteValues(settings, lookups, name)
        self._notes = NoteStore(self._client, settings.public_notes_as)
        self._files = FileStore(self._client)

    def _where(self, operation: str, record: str | None = None) -> dict[str, Any]:
        return {"connector": self.name, "operation": operation, "record": record}

    # -- intake ---------------------------------------------------------------------------

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> None:
        webhook = self.settings.webhook
        if webhook is None:
            msg = f"connector {self.name} has no webhook.secret configured; add one to accept webhooks"
            raise WebhookAuthError(msg)
        secret = webhook.secret.resolve()
        if webhook.auth == "webhookkey":
            webhooks.verify_webhook_key(headers, secret=secret)
        else:
            webhooks.verify_header(headers, header=self.settings.webhook_header, secret=secret)

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[IntakeEvent]:
        return webhooks.parse_context(self.name, headers, body)

    # -- reads ----------------------------------------------------------------------------

    def _native(self, row: Mapping[str, Any], operation: str) -> NativeRecord:
        try:
            return to_native(row, self.settings.correlation_field, self.settings.date_only_fields)
        except (KeyError, TypeError, ValueError) as exc:
            msg = f"unreadable case ({type(exc).__name__}: {exc}); check the column privileges of the application user"
            raise PermanentError(msg, **self._where(operation, str(row.get("incidentid")))) from exc

    def _query(self, params: Mapping[str, str], operation: str) -> Iterator[Mapping[str, Any]]:
        base = {"$select": self._select, "$expand": EXPAND}
        for page in self._client.pages(_SET, {**base, **params}, operation=operation, record=_SET):
            yield from page

    def changed_since(self, since: datetime | None) -> Iterator[NativeRecord]:
        # NOTE: adding a note does not change the case's modifiedon, so a poll finds no new
        # note; only the annotation webhook step reports one.
        params = {"$orderby": "modifiedon asc,incidentid asc"}
        if since is not None:
            params["$filter"] = f"modifiedon ge {format_datetime(since)}"
        for row in self._query(params, "changed_since"):
            yield self._native(row, "changed_since")

    def _read_row(self, ticket_id: str, operation: str) -> dict[str, Any]:
        path = f"{_SET}({ticket_id})"
        params = {"$select": self._select, "$expand": EXPAND}
        return self._client.get(path, operation=operation, record=path, params=params)

    def get_record(self, ticket_id: str) -> NativeRecord:
        return self._native(self._read_row(ticket_id, "get_record"), "get_record")

    def list_comments(self, ticket_id: str) -> list[Comment]:
        return self._notes.list(ticket_id)

    def find_by_correlation(self, correlation_id: str) -> NativeRecord | None:
        quoted = "'" + correlation_id.replace("'", "''") + "'"
        params = {
            "$filter": f"{self.settings.correlation_field} eq {quoted}",
            "$orderby": "createdon asc,incidentid asc",
        }
        found = [
            self._native(row, "find_by_correlation")
            for row in self._query(params, "find_by_correlation")
        ]
        if len(found) > 1:
            _log.warning("correlation_not_unique", connector=self.name, matches=len(found))
        return found[0] if found else None

    # -- writes ---------------------------------------------------------------------------

    def create_record(self, fields: Mapping[str, Any], correlation_id: str) -> NativeRecord:
        """Create a case with every field but a non-Active status, then move it there."""
        values = self._values.convert(fields, "create_record")
        status = self._status_target(fields, "create_record", _SET)
        body = {**values.columns, self.settings.correlation_field: correlation_id}
        body.update(self._values.create_binds(values.binds, "create_record"))
        if status is not None and status.state == 0:
            body["statuscode"] = status.status
        row = self._client.create(_SET, body, self._select, operation="create_record")
        if status is None or status.state == 0:
            return self.get_record(str(row["incidentid"]))
        return self.update_record(str(row["incidentid"]), {"statuscode": status.status})

    def update_record(self, ticket_id: str, fields: Mapping[str, Any]) -> NativeRecord:
        """Write the fields and the status in as few calls as the case's state allows."""
        record = f"{_SET}({ticket_id})"
        values = self._values.convert(fields, "update_record")
        target = self._status_target(fields, "update_record", record)
        row = self._read_row(ticket_id, "update_record")
        current = (int(row["statecode"]), int(row["statuscode"]))
        try:
            steps = plan_writes(current, target, {**values.columns, **values.binds})
        except ReadOnlyCase as exc:
            msg = f"the case is {exc} and read-only; reactivate it (an Active status) before changing other fields"
            raise RejectedError(msg, **self._where("update_record", record)) from exc

        etag = etag_of(row)
        for step in steps:
            if isinstance(step, Patch):
                row = self._client.update(
                    _SET, ticket_id, step.body, "incidentid", etag=etag, operation="update_record"
                )
                etag = etag_of(row)
            elif isinstance(step, Close):
                self._close(ticket_id, step.status)
        return self.get_record(ticket_id)

    def _status_target(
        self, fields: Mapping[str, Any], operation: str, record: str
    ) -> StatusPair | None:
        if fields.get("statecode") is None and fields.get("statuscode") is None:
            return None
        return self._statuses.resolve(
            fields.get("statecode"), fields.get("statuscode"), operation=operation, record=record
        )

    def _close(self, ticket_id: str, status: int) -> None:
        resolution = {
            "@odata.type": "Microsoft.Dynamics.CRM.incidentresolution",
            "subject": self.settings.resolution_subject,
            "incidentid@odata.bind": f"/{_SET}({ticket_id})",
        }
        # TODO: the other side's resolution notes are not written to the resolution's
        # description yet; the mapping has no native field that carries them.
        body = {"IncidentResolution": resolution, "Status": status}
        self._client.action(
            "CloseIncident", body, operation="resolve", record=f"{_SET}({ticket_id})"
        )

    def add_comment(self, ticket_id: str, body: str, *, public: bool) -> Comment:
        return self._notes.add(ticket_id, body, public=public)

    # -- attachments ----------------------------------------------------------------------

    def list_attachments(self, ticket_id: str) -> list[AttachmentMeta]:
        return self._files.list(ticket_id)

    def download_attachment(self, ticket_id: str, attachment: AttachmentMeta) -> bytes:
        return self._files.download(ticket_id, attachment)

    def upload_attachment(
        self, ticket_id: str, filename: str, content: bytes, content_type: str | None
    ) -> AttachmentMeta:
        return self._files.upload(ticket_id, filename, content, content_type)

    def close(self) -> None:
        self._client.close()
