"""`ServiceNowConnector`: incidents (or CSM cases) of one ServiceNow instance."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, ClassVar

import structlog

from tierbridge.connectors.servicenow import webhooks
from tierbridge.connectors.servicenow.attachments import AttachmentClient
from tierbridge.connectors.servicenow.client import Page, TableClient
from tierbridge.connectors.servicenow.file_changes import (
    NewestFile,
    fold_newest_file,
    read_newest_files,
)
from tierbridge.connectors.servicenow.paging import read_all_pages
from tierbridge.connectors.servicenow.records import (
    JOURNAL_FIELDS,
    format_datetime,
    parse_datetime,
    reference_ids,
    to_comment,
    to_native,
)
from tierbridge.connectors.servicenow.references import ReferenceCache
from tierbridge.connectors.servicenow.settings import ServiceNowSettings
from tierbridge.connectors.servicenow.tables import PROFILES
from tierbridge.core.connector import Connector, IntakeEvent, NativeRecord
from tierbridge.core.connector_settings import BasicAuth
from tierbridge.core.errors import (
    NotFoundError,
    PermanentError,
    RejectedError,
    RetryableError,
    WebhookAuthError,
)
from tierbridge.core.model import AttachmentMeta, Comment

__all__ = ["ServiceNowConnector"]

_log = structlog.get_logger(__name__)
_JOURNAL_ELEMENTS = {True: "comments", False: "work_notes"}
#: Journal rows created this long before the PATCH's sys_updated_on still count as ours.
_JOURNAL_CLOCK_SLACK = timedelta(seconds=2)
#: Records read per `sys_idIN` query; 100 sys_ids make a query string of about 3.3 KB.
_IDS_PER_QUERY = 100


class ServiceNowConnector(Connector):
    """Reads and writes one table through the Table API, as the configured integration user.

    Not thread-safe: give each worker thread its own connector.
    """

    system: ClassVar[str] = "servicenow"
    supports_attachments: ClassVar[bool] = True

    def __init__(self, name: str, settings: ServiceNowSettings) -> None:
        super().__init__(name)
        self.settings = settings
        self.table = settings.table
        self._profile = PROFILES[settings.table]
        self._read_fields = self._profile.read_fields
        self._client = TableClient(settings, name)
        self._files = AttachmentClient(self._client.session, settings.url, name, settings.page_size)
        self._refs = ReferenceCache(self._client)
        auth = settings.auth
        self._user = settings.integration_user or (
            auth.username if isinstance(auth, BasicAuth) else None
        )

    # -- intake ---------------------------------------------------------------------------

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> None:
        webhook = self.settings.webhook
        if webhook is None:
            msg = (
                f"connector {self.name} has no webhook.secret configured; add one to accept notices"
            )
            raise WebhookAuthError(msg)
        header = webhook.signature_header or self.settings.signature_header
        webhooks.verify_signature(headers, body, header=header, secret=webhook.secret.resolve())

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[IntakeEvent]:
        return webhooks.parse_notice(self.name, self.table, headers, body)

    def lists_touched(self, kind: str, payload: Mapping[str, Any]) -> frozenset[str] | None:
        return webhooks.lists_touched(payload)

    # -- reads ----------------------------------------------------------------------------

    def _natives(self, rows: Sequence[Mapping[str, str]], operation: str) -> list[NativeRecord]:
        users, groups = reference_ids(rows, self._profile)
        self._refs.prefetch(users, groups, operation=operation)
        records = []
        for row in rows:
            try:
                record = to_native(
                    row,
                    user_email=self._refs.user_email,
                    group_name=self._refs.group_name,
                    profile=self._profile,
                )
            except ValueError as exc:
                msg = f"unreadable record ({exc}); check the field ACLs of the integration user"
                raise PermanentError(
                    msg, connector=self.name, operation=operation, record=row.get("sys_id")
                ) from exc
            records.append(record)
        return records

    def changed_since(self, since: datetime | None) -> Iterator[NativeRecord]:
        """Yield records whose fields changed, or to which a file was attached, since `since`.

        Files are looked up only with a watermark and with attachments enabled, because
        `since=None` reads every record anyway. When files are found, the whole read is
        sorted in memory before it is yielded.
        """
        newest: dict[str, NewestFile] = {}
        if since is not None and self.settings.attachments.enabled:
            newest = self._newest_files(since)
        if not newest:
            yield from self._field_changes(since)
            return

        records = list(self._field_changes(since))
        listed = {record.id for record in records}
        records += self._records_by_id([sys_id for sys_id in newest if sys_id not in listed])
        folded = [fold_newest_file(record, newest.get(record.id)) for record in records]
        yield from sorted(folded, key=lambda record: (record.updated, record.id))

    def _changed_since_failed(self, reason: str) -> RetryableError:
        msg = f"{reason}; the set changed during the read, so poll again from the same watermark"
        return RetryableError(
            msg, connector=self.name, operation="changed_since", record=self.table
        )

    def _field_changes(self, since: datetime | None) -> Iterator[NativeRecord]:
        terms = [f"sys_updated_on>={format_datetime(since)}"] if since is not None else []
        query = "^".join([*terms, "ORDERBYsys_updated_on", "ORDERBYsys_id"])

        def fetch(offset: int, limit: int) -> Page:
            return self._client.page(
                self.table,
                query,
                self._read_fields,
                operation="changed_since",
                limit=limit,
                offset=offset,
            )

        batch: list[dict[str, str]] = []
        pages = read_all_pages(fetch, self.settings.page_size, self._changed_since_failed)
        for row in pages:
            batch.append(row)
            if len(batch) == self.settings.page_size:
                yield from self._natives(batch, "changed_since")
                batch = []
        yield from self._natives(batch, "changed_since")

    def _newest_files(self, since: datetime) -> dict[str, NewestFile]:
        try:
            return read_newest_files(
                self._files,
                self.table,
                since,
                self.settings.page_size,
                self._changed_since_failed,
            )
        except ValueError as exc:
            msg = f"unreadable attachment metadata ({exc}); check the sys_attachment field ACLs"
            raise PermanentError(
                msg, connector=self.name, operation="changed_since", record="sys_attachment"
            ) from exc

    def _records_by_id(self, sys_ids: Sequence[str]) -> list[NativeRecord]:
        """Read records by sys_id; records deleted or hidden since are left out."""
        rows: list[dict[str, str]] = []
        for start in range(0, len(sys_ids), _IDS_PER_QUERY):
            chunk = sys_ids[start : start + _IDS_PER_QUERY]
            rows += self._client.query(
                self.table,
                "sys_idIN" + ",".join(chunk),
                self._read_fields,
                operation="changed_since",
                order_by="sys_updated_on",
            )
        return self._natives(rows, "changed_since")

    def get_record(self, ticket_id: str) -> NativeRecord:
        row = self._client.get(self.table, ticket_id, self._read_fields, operation="get_record")
        if row is None:
            msg = "record not found; check the sys_id"
            raise NotFoundError(
                msg, connector=self.name, operation="get_record", record=f"{self.table}/{ticket_id}"
            )
        return self._natives([row], "get_record")[0]

    def list_comments(self, ticket_id: str) -> list[Comment]:
        query = f"element_id={ticket_id}^elementINcomments,work_notes"
        rows = self._client.query(
            "sys_journal_field",
            query,
            JOURNAL_FIELDS,
            operation="list_comments",
            order_by="sys_created_on",
        )
        return [to_comment(row) for row in rows]

    def find_by_correlation(self, correlation_id: str) -> NativeRecord | None:
        if "^" in correlation_id:
            msg = "correlation id contains '^', the encoded-query separator; it cannot be searched"
            raise RejectedError(
                msg, connector=self.name, operation="find_by_correlation", record=self.table
            )
        rows = self._client.query(
            self.table,
            f"correlation_id={correlation_id}",
            self._read_fields,
            operation="find_by_correlation",
            order_by="sys_created_on",
        )
        if len(rows) > 1:
            _log.warning("correlation_not_unique", connector=self.name, matches=len(rows))
        return self._natives(rows[:1], "find_by_correlation")[0] if rows else None

    # -- attachments ----------------------------------------------------------------------

    def list_attachments(self, ticket_id: str) -> list[AttachmentMeta]:
        return self._files.list_files(self.table, ticket_id)

    def download_attachment(self, ticket_id: str, attachment: AttachmentMeta) -> bytes:
        return self._files.download(attachment)

    def upload_attachment(
        self, ticket_id: str, filename: str, content: bytes, content_type: str | None
    ) -> AttachmentMeta:
        return self._files.upload(self.table, ticket_id, filename, content, content_type)

    # -- writes ---------------------------------------------------------------------------

    def _write_values(self, fields: Mapping[str, Any], operation: str) -> dict[str, str]:
        writable_fields = self._profile.writable_fields
        unknown = sorted(set(fields) - set(writable_fields) - set(self._profile.derived_fields))
        if unknown:
            writable = ", ".join(writable_fields)
            msg = f"fields {unknown} are not written by this connector; writable: {writable}"
            raise RejectedError(msg, connector=self.name, operation=operation, record=self.table)

        values: dict[str, str] = {}
        for name in writable_fields:
            if name not in fields:
                continue
            value = "" if fields[name] is None else str(fields[name])
            if value and name in self._profile.user_fields:
                value = self._refs.user_id(value, field=name, operation=operation)
            elif value and name in self._profile.group_fields:
                value = self._refs.group_id(value, field=name, operation=operation)
            values[name] = value
        return values

    def create_record(self, fields: Mapping[str, Any], correlation_id: str) -> NativeRecord:
        values = self._write_values(fields, "create_record")
        values["correlation_id"] = correlation_id
        row = self._client.insert(self.table, values, operation="create_record")
        return self._natives([row], "create_record")[0]

    def update_record(self, ticket_id: str, fields: Mapping[str, Any]) -> NativeRecord:
        values = self._write_values(fields, "update_record")
        row = self._client.update(
            self.table, ticket_id, values, self._read_fields, operation="update_record"
        )
        return self._natives([row], "update_record")[0]

    def add_comment(self, ticket_id: str, body: str, *, public: bool) -> Comment:
        element = _JOURNAL_ELEMENTS[public]
        row = self._client.update(
            self.table, ticket_id, {element: body}, self._read_fields, operation="add_comment"
        )
        return self._find_new_entry(ticket_id, element, body, row.get("sys_updated_on", ""))

    def _find_new_entry(self, ticket_id: str, element: str, body: str, updated_on: str) -> Comment:
        """Find the journal row the last PATCH created: newest of ours with the same text.

        NOTE: two identical entries posted within the same two seconds by the same user differ
        only in order, so two concurrent posters could swap their source ids.
        """
        written = parse_datetime(updated_on)
        terms = [f"element_id={ticket_id}", f"element={element}"]
        if written is not None:
            terms.append(f"sys_created_on>={format_datetime(written - _JOURNAL_CLOCK_SLACK)}")
        if self._user:
            terms.append(f"sys_created_by={self._user}")
        rows = self._client.query(
            "sys_journal_field",
            "^".join(terms),
            JOURNAL_FIELDS,
            operation="add_comment",
            order_by="sys_created_on",
        )
        matching = [row for row in rows if row.get("value", "").strip() == body.strip()]
        if not matching:
            msg = (
                f"the {element} entry was posted but not found in sys_journal_field; "
                "check that the integration user may read sys_journal_field"
            )
            raise NotFoundError(
                msg,
                connector=self.name,
                operation="add_comment",
                record=f"{self.table}/{ticket_id}",
            )
        return to_comment(matching[-1])

    def close(self) -> None:
        self._client.close()
