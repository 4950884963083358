"""Attachment API calls of one connector: list, download and upload the files of its records.

The calls go through the connector's own session, which applies the timeout, the rate
limiter, the status check and one log line per call. pysnc's `Attachment` helper (pysnc
1.2.1) is not used, because its upload returns only the `Location` header, so the stored size
cannot be confirmed, and a failed list read prints a traceback before it raises.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, TypeVar

import requests

from tierbridge.connectors.servicenow.client import Page
from tierbridge.connectors.servicenow.paging import read_all_pages
from tierbridge.connectors.servicenow.translate import translate_errors
from tierbridge.core.errors import ConnectorError, PermanentError, RejectedError, RetryableError
from tierbridge.core.model import AttachmentMeta

__all__ = ["AttachmentClient", "confirm_upload", "to_attachment"]

_SYS_ID = re.compile(r"[0-9a-fA-F]{32}")
_Error = TypeVar("_Error", bound=ConnectorError)
#: Content type sent for a file whose type is unknown; the upload requires the header.
_UNKNOWN_TYPE = "application/octet-stream"


def to_attachment(row: Mapping[str, str]) -> AttachmentMeta:
    """Build AttachmentMeta from an Attachment API metadata row (all values strings).

    Raises ValueError for a row without sys_id or file_name.
    """
    sys_id = row.get("sys_id", "")
    file_name = row.get("file_name", "")
    if not sys_id or not file_name:
        raise ValueError("attachment metadata without sys_id or file_name")
    size_text = row.get("size_bytes", "").strip()
    return AttachmentMeta(
        source_id=sys_id,
        filename=file_name,
        size=int(size_text) if size_text.isdigit() else None,
        content_type=row.get("content_type") or None,
    )


def _strings(row: Any) -> dict[str, str]:
    if not isinstance(row, Mapping):
        raise TypeError("a result row is not a JSON object")
    return {str(name): "" if value is None else str(value) for name, value in row.items()}


class AttachmentClient:
    """Attachment API calls for one connector, each translating its errors."""

    def __init__(
        self, session: requests.Session, base_url: str, connector: str, page_size: int
    ) -> None:
        self.connector = connector
        self._session = session
        self._base = base_url.rstrip("/")
        self._page_size = page_size

    def _error(self, cls: type[_Error], msg: str, operation: str, record: str) -> _Error:
        return cls(msg, connector=self.connector, operation=operation, record=record)

    def page(
        self,
        encoded_query: str,
        *,
        operation: str,
        table: str,
        sys_id: str | None = None,
        limit: int,
        offset: int,
    ) -> Page:
        """Read one page of sys_attachment metadata, with the total from `X-Total-Count`.

        `table` and `sys_id` name the record in errors: the ticket whose files are listed, or
        the table whose new files are read.
        """
        params = {
            "sysparm_query": encoded_query,
            "sysparm_limit": str(limit),
            "sysparm_offset": str(offset),
        }
        record = f"{table}/{sys_id}" if sys_id else table
        with translate_errors(self.connector, operation, table=table, sys_id=sys_id):
            response = self._session.get(f"{self._base}/api/now/attachment", params=params)
            body = response.json()
        try:
            rows = [_strings(row) for row in body["result"]]
        except (KeyError, TypeError) as exc:
            msg = "the list response has no result list; check that no proxy rewrites responses"
            raise self._error(RetryableError, msg, operation, record) from exc

        total = response.headers.get("X-Total-Count")
        if total is None or not total.isdigit():
            msg = "the list response has no X-Total-Count header; check that no proxy strips it"
            raise self._error(RetryableError, msg, operation, record)
        return Page(rows, int(total))

    def list_files(self, table: str, ticket_id: str) -> list[AttachmentMeta]:
        """Read the metadata of every file attached to a record, oldest first, to the last page.

        Files attached within the same second are ordered by sys_id, because the instance
        stores no finer time.
        """
        operation = "list_attachments"
        record = f"{table}/{ticket_id}"
        if "^" in ticket_id:
            msg = "the ticket id contains '^', the encoded-query separator; it cannot be searched"
            raise self._error(RejectedError, msg, operation, record)
        terms = [f"table_name={table}", f"table_sys_id={ticket_id}"]
        query = "^".join([*terms, "ORDERBYsys_created_on", "ORDERBYsys_id"])

        def fetch(offset: int, limit: int) -> Page:
            return self.page(
                query,
                operation=operation,
                table=table,
                sys_id=ticket_id,
                limit=limit,
                offset=offset,
            )

        def fail(reason: str) -> RetryableError:
            msg = f"{reason}; files were added or removed during the read, so read again"
            return self._error(RetryableError, msg, operation, record)

        rows = list(read_all_pages(fetch, self._page_size, fail))
        try:
            return [to_attachment(row) for row in rows]
        except ValueError as exc:
            msg = f"unreadable attachment metadata ({exc}); check the sys_attachment field ACLs"
            raise self._error(PermanentError, msg, operation, record) from exc

    def download(self, attachment: AttachmentMeta) -> bytes:
        """Read the bytes of a listed file (`GET /api/now/attachment/{sys_id}/file`).

        The URL is built from the sys_id on the configured instance, never taken from a
        response's `download_link`. Raises RetryableError when the byte count differs from
        the listed size.
        """
        operation = "download_attachment"
        sys_id = attachment.source_id
        record = f"sys_attachment/{sys_id}"
        if not _SYS_ID.fullmatch(sys_id):
            msg = f"attachment id {sys_id!r} is not a sys_id (32 hex characters)"
            raise self._error(RejectedError, msg, operation, "sys_attachment")

        url = f"{self._base}/api/now/attachment/{sys_id}/file"
        with translate_errors(self.connector, operation, table="sys_attachment", sys_id=sys_id):
            content = self._session.get(url, headers={"Accept": "*/*"}).content
        if attachment.size is not None and len(content) != attachment.size:
            msg = (
                f"read {len(content)} bytes but the metadata lists {attachment.size}; "
                "the transfer was cut or the file was replaced, so list and read again"
            )
            raise self._error(RetryableError, msg, operation, record)
        return content

    def upload(
        self,
        table: str,
        ticket_id: str,
        filename: str,
        content: bytes,
        content_type: str | None,
    ) -> AttachmentMeta:
        """Attach `content` to a record (`POST /api/now/attachment/file`) and confirm it.

        Raises RejectedError for an empty file name, and when the response does not confirm
        the file (see `confirm_upload`).
        """
        operation = "upload_attachment"
        record = f"{table}/{ticket_id}"
        if not filename.strip():
            msg = "the file has no name; the Attachment API requires file_name"
            raise self._error(RejectedError, msg, operation, record)

        params = {"table_name": table, "table_sys_id": ticket_id, "file_name": filename}
        headers = {"Content-Type": content_type or _UNKNOWN_TYPE}
        with translate_errors(self.connector, operation, table=table, sys_id=ticket_id):
            response = self._session.post(
                f"{self._base}/api/now/attachment/file",
                params=params,
                data=content,
                headers=headers,
            )
        # A 201 whose body cannot be read may still have stored the file. A retry could then
        # attach it twice, so this error is not retryable.
        try:
            row = _strings(response.json()["result"])
        except (ValueError, KeyError, TypeError) as exc:
            msg = (
                "the upload response carries no attachment metadata; check the record in "
                "ServiceNow for the file before sending it again"
            )
            raise self._error(RejectedError, msg, operation, record) from exc
        return confirm_upload(row, content, connector=self.connector, record=record)


def confirm_upload(
    row: Mapping[str, str], content: bytes, *, connector: str, record: str
) -> AttachmentMeta:
    """Return the uploaded file's metadata, or raise RejectedError if it does not confirm it.

    The response confirms it when it carries a sys_id and a `size_bytes` equal to the number
    of bytes sent.
    """
    sent = len(content)
    stored = row.get("size_bytes", "").strip()
    problem = None
    if not row.get("sys_id"):
        problem = "carries no sys_id"
    elif not stored.isdigit():
        problem = f"carries no size_bytes (got {stored!r})"
    elif int(stored) != sent:
        problem = f"confirms {stored} bytes, not the {sent} bytes sent"
    if problem is not None:
        msg = (
            f"the upload response {problem}; check the file on the record in ServiceNow and "
            "remove an incomplete copy"
        )
        raise RejectedError(msg, connector=connector, operation="upload_attachment", record=record)
    return to_attachment(row)
