"""`SalesforceConnector`: the Cases of one Salesforce Service Cloud org, with comments and files."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import parse_qsl

import structlog

from tierbridge.connectors.salesforce import webhooks
from tierbridge.connectors.salesforce.client import SalesforceClient
from tierbridge.connectors.salesforce.files import CaseFiles
from tierbridge.connectors.salesforce.ids import normalize_id
from tierbridge.connectors.salesforce.reads import Fail, read_all, read_changes
from tierbridge.connectors.salesforce.records import (
    COMMENT_FIELDS,
    NATIVE_FIELDS,
    READ_ONLY_FIELDS,
    case_fields,
    to_comment,
    to_native,
)
from tierbridge.connectors.salesforce.settings import SalesforceSettings
from tierbridge.connectors.salesforce.soql import Select, id_literal, string_literal
from tierbridge.connectors.salesforce.transport import LimitInfo
from tierbridge.core.connector import Connector, IntakeEvent, NativeRecord
from tierbridge.core.errors import (
    NotFoundError,
    PermanentError,
    RejectedError,
    RetryableError,
    WebhookAuthError,
)
from tierbridge.core.model import AttachmentMeta, Comment

__all__ = ["SalesforceConnector"]

_log = structlog.get_logger(__name__)
#: CommentBody is limited to 4,000 bytes.
_MAX_COMMENT_BYTES = 4000
#: Ids per `Id IN (...)` query, which keeps the SOQL text well under its length limit.
_IDS_PER_QUERY = 100


class SalesforceConnector(Connector):
    """Reads and writes Cases, CaseComments and Files through the REST API as the run-as user.

    Not thread-safe: give each worker thread its own connector.
    """

    system: ClassVar[str] = "salesforce"
    supports_attachments: ClassVar[bool] = True

    def __init__(self, name: str, settings: SalesforceSettings) -> None:
        super().__init__(name)
        self.settings = settings
        self._client = SalesforceClient(name, settings)
        self._correlation = settings.correlation_field
        self._cases = Select(case_fields(self._correlation), "Case")
        self._writable = {
            *(name for name in NATIVE_FIELDS if name not in READ_ONLY_FIELDS),
            self._correlation,
        }
        self._files = CaseFiles(name, self._client, self._fail, settings.query_limit)

    @property
    def limit_info(self) -> LimitInfo | None:
        """The last `Sforce-Limit-Info` the org sent (`.api_usage` is used/allowed), or None."""
        return self._client.limit_info

    def close(self) -> None:
        self._client.close()

    def _fail(self, operation: str) -> Fail:
        def fail(reason: str) -> RetryableError:
            msg = f"{reason}; the read is incomplete, so read again from the same point"
            return RetryableError(msg, connector=self.name, operation=operation, record="Case")

        return fail

    # -- intake ---------------------------------------------------------------------------

    def verify_webhook(
        self,
        headers: Mapping[str, str],
        body: bytes,
        *,
        query: Mapping[str, str] | None = None,
    ) -> None:
        """Check the shared token (query parameter `token` or the configured header) and the org.

        `query` contains the request's query parameters. The server must pass them, because an
        Outbound Message can carry its token only in the endpoint URL.
        """
        webhook = self.settings.webhook
        if webhook is None:
            msg = f"connector {self.name} has no webhook.secret; set the outbound message token"
            raise WebhookAuthError(msg)
        if query is None:
            # The webhook server passes the query string in this pseudo-header.
            query = dict(parse_qsl(headers.get(":query", "")))
        webhooks.verify_message(
            headers,
            query,
            body,
            token=webhook.secret.resolve(),
            token_header=webhook.signature_header,
            organization_id=self.settings.organization_id,
        )

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[IntakeEvent]:
        return webhooks.parse_notifications(self.name, body)

    def webhook_response(self, events: Sequence[IntakeEvent]) -> tuple[bytes, str]:
        """Return the SOAP acknowledgement (body, content type) that stops the org resending."""
        return webhooks.ACK_BODY, webhooks.ACK_CONTENT_TYPE

    # -- reads ----------------------------------------------------------------------------

    def _native(self, row: Mapping[str, Any], operation: str) -> NativeRecord:
        try:
            return to_native(
                row,
                correlation_field=self._correlation,
                own_user_id=self._client.user_id,
                integration_user=self.settings.integration_user,
            )
        except (KeyError, ValueError) as exc:
            msg = f"unreadable Case row ({type(exc).__name__}); check the field-level security"
            raise PermanentError(
                msg, connector=self.name, operation=operation, record=row.get("Id")
            ) from exc

    def _case_id(self, ticket_id: str, operation: str) -> str:
        try:
            case_id = normalize_id(ticket_id)
        except ValueError:
            case_id = ""
        if not case_id.startswith("500"):
            msg = "not a Case id (18 characters starting with 500)"
            raise NotFoundError(msg, connector=self.name, operation=operation, record=ticket_id)
        return case_id

    def changed_since(self, since: datetime | None) -> Iterator[NativeRecord]:
        """Yield Cases changed, commented or given a file at or after `since`, oldest first.

        Comments and files do not move their Case's timestamps, so two more reads find Cases
        with new comments and new files. Every read finishes before the first record is
        yielded.
        """
        operation = "changed_since"
        records: dict[str, NativeRecord] = {}
        rows = read_changes(
            self._client,
            self._cases,
            since=since,
            limit=self.settings.query_limit,
            operation=operation,
            fail=self._fail(operation),
        )
        for row in rows:
            record = self._native(row, operation)
            records[record.id] = record
        if since is not None:
            touched = self._commented_cases(since, operation)
            touched |= self._files.cases_with_new_files(since, operation)
            parents = touched - records.keys()
            for record in self._cases_by_id(sorted(parents), operation):
                records[record.id] = record
        yield from sorted(records.values(), key=lambda record: (record.updated, record.id))

    def _commented_cases(self, since: datetime, operation: str) -> set[str]:
        rows = read_changes(
            self._client,
            Select(["Id", "ParentId", "SystemModstamp"], "CaseComment"),
            since=since,
            limit=self.settings.query_limit,
            operation=operation,
            fail=self._fail(operation),
        )
        return {normalize_id(str(row["ParentId"])) for row in rows}

    def _cases_by_id(self, case_ids: Sequence[str], operation: str) -> Iterator[NativeRecord]:
        for start in range(0, len(case_ids), _IDS_PER_QUERY):
            chunk = ", ".join(
                id_literal(case_id) for case_id in case_ids[start : start + _IDS_PER_QUERY]
            )
            select = self._cases.with_terms(f"Id IN ({chunk})")
            for row in read_all(
                self._client, select, operation=operation, fail=self._fail(operation)
            ):
                yield self._native(row, operation)

    def deleted_since(self, since: datetime | None) -> list[str]:
        """Return the ids of Cases deleted (moved to the recycle bin) at or after `since`."""
        operation = "deleted_since"
        rows = read_changes(
            self._client,
            Select(["Id", "SystemModstamp"], "Case", ["IsDeleted = true"]),
            since=since,
            limit=self.settings.query_limit,
            operation=operation,
            fail=self._fail(operation),
            include_deleted=True,
        )
        return [normalize_id(str(row["Id"])) for row in rows]

    def get_record(self, ticket_id: str) -> NativeRecord:
        case_id = self._case_id(ticket_id, "get_record")
        found = list(self._cases_by_id([case_id], "get_record"))
        if not found:
            msg = "Case not found or deleted; check the id and the integration user's sharing"
            raise NotFoundError(msg, connector=self.name, operation="get_record", record=case_id)
        return found[0]

    def list_comments(self, ticket_id: str) -> list[Comment]:
        case_id = self._case_id(ticket_id, "list_comments")
        select = Select(
            COMMENT_FIELDS,
            "CaseComment",
            [f"ParentId = {id_literal(case_id)}"],
            ["CreatedDate", "Id"],
        )
        rows = read_all(
            self._client, select, operation="list_comments", fail=self._fail("list_comments")
        )
        return [to_comment(row) for row in rows]

    def find_by_correlation(self, correlation_id: str) -> NativeRecord | None:
        operation = "find_by_correlation"
        term = f"{self._correlation} = {string_literal(correlation_id)}"
        select = Select(self._cases.fields, "Case", [term], ["CreatedDate", "Id"], limit=2)
        rows = list(read_all(self._client, select, operation=operation, fail=self._fail(operation)))
        if len(rows) > 1:
            _log.warning("correlation_not_unique", connector=self.name, matches=len(rows))
        return self._native(rows[0], operation) if rows else None

    # -- writes ---------------------------------------------------------------------------

    def _write_values(self, fields: Mapping[str, Any], operation: str) -> dict[str, Any]:
        unknown = sorted(set(fields) - self._writable)
        if unknown:
            writable = ", ".join(sorted(self._writable))
            msg = f"fields {unknown} are not written by this connector; writable: {writable}"
            raise RejectedError(msg, connector=self.name, operation=operation, record="Case")
        values: dict[str, Any] = {}
        for name, value in fields.items():
            if value is None or value == "":
                values[name] = None
            elif name == "OwnerId":
                values[name] = self._owner_id(str(value), operation)
            else:
                values[name] = str(value)
        return values

    def _owner_id(self, value: str, operation: str) -> str:
        try:
            return normalize_id(value)
        except ValueError as exc:
            msg = "OwnerId must be a User (005) or queue (00G) id"
            raise RejectedError(
                msg, connector=self.name, operation=operation, record="Case"
            ) from exc

    def create_record(self, fields: Mapping[str, Any], correlation_id: str) -> NativeRecord:
        values = self._write_values(fields, "create_record")
        values[self._correlation] = correlation_id
        case_id = self._client.create("Case", values, operation="create_record")
        return self.get_record(case_id)

    def update_record(self, ticket_id: str, fields: Mapping[str, Any]) -> NativeRecord:
        case_id = self._case_id(ticket_id, "update_record")
        values = self._write_values(fields, "update_record")
        if values:
            self._client.update("Case", case_id, values, operation="update_record")
        return self.get_record(case_id)

    def add_comment(self, ticket_id: str, body: str, *, public: bool) -> Comment:
        """Post a CaseComment with `IsPublished` set to `public` and read it back."""
        operation = "add_comment"
        case_id = self._case_id(ticket_id, operation)
        size = len(body.encode("utf-8"))
        if size > _MAX_COMMENT_BYTES:
            msg = f"comment has {size} bytes; a CaseComment holds at most {_MAX_COMMENT_BYTES}"
            raise RejectedError(msg, connector=self.name, operation=operation, record=case_id)

        values = {"ParentId": case_id, "CommentBody": body, "IsPublished": public}
        comment_id = self._client.create("CaseComment", values, operation=operation)
        select = Select(COMMENT_FIELDS, "CaseComment", [f"Id = {id_literal(comment_id)}"])
        rows = list(read_all(self._client, select, operation=operation, fail=self._fail(operation)))
        if not rows:
            msg = "the comment was created but cannot be read back; check CaseComment access"
            raise NotFoundError(msg, connector=self.name, operation=operation, record=comment_id)
        comment = to_comment(rows[0])
        if comment.public is not public:
            msg = f"Salesforce stored the comment with IsPublished={comment.public}, not {public}"
            raise RejectedError(msg, connector=self.name, operation=operation, record=comment_id)
        return comment

    # -- attachments ----------------------------------------------------------------------

    def list_attachments(self, ticket_id: str) -> list[AttachmentMeta]:
        """Read the Files linked to a Case, oldest first; `source_id` is a ContentVersion id."""
        return self._files.list_files(self._case_id(ticket_id, "list_attachments"))

    def download_attachment(self, ticket_id: str, attachment: AttachmentMeta) -> bytes:
        self._case_id(ticket_id, "download_attachment")
        return self._files.download(attachment)

    def upload_attachment(
        self, ticket_id: str, filename: str, content: bytes, content_type: str | None
    ) -> AttachmentMeta:
        """Upload a File to a Case and confirm its size (and MD5 Checksum) as stored.

        `content_type` is not sent: an org derives a file's type from its name's extension.
        """
        case_id = self._case_id(ticket_id, "upload_attachment")
        return self._files.upload(case_id, filename, content)
