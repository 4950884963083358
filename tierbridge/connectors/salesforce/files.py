"""Salesforce Files on Cases: list, download and upload ContentVersions.

A file is a ContentDocument whose versions are ContentVersions, shared with a Case by a
ContentDocumentLink. A listing reads the Case's links with each document's latest published
version. An attachment's `source_id` is that version's 18-character id, its `filename` the
version's PathOnClient (the Title has no extension), and its `content_type` a guess from the
extension, because the org records only its own FileType (`PDF`, `UNKNOWN`). An upload
inserts a ContentVersion whose `FirstPublishLocationId` is the Case, which links the new
file to the Case, and then reads the version back to confirm its size.

NOTE: `cases_with_new_files` needs the Query All Files permission (which requires View All
Data). Without it, the ContentVersion object reference states that a query without an id omits
files the user can see only through a record they are shared with, so the poll would miss
files that agents attach to Cases.
"""

from __future__ import annotations

import base64
import hashlib
import json
import mimetypes
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from tierbridge.connectors.salesforce.client import SalesforceClient
from tierbridge.connectors.salesforce.ids import normalize_id
from tierbridge.connectors.salesforce.reads import Fail, read_all, read_changes
from tierbridge.connectors.salesforce.records import parse_timestamp
from tierbridge.connectors.salesforce.soql import Select, id_literal
from tierbridge.core.errors import NotFoundError, PermanentError, RejectedError, RetryableError
from tierbridge.core.model import AttachmentMeta

__all__ = ["LINK_FIELDS", "MAX_JSON_BODY_BYTES", "VERSION_FIELDS", "CaseFiles", "guess_type"]

#: Fields of each ContentDocumentLink a listing reads.
LINK_FIELDS = (
    "ContentDocumentId",
    "ContentDocument.Title",
    "ContentDocument.LatestPublishedVersionId",
    "ContentDocument.ContentSize",
    "ContentDocument.FileExtension",
    "ContentDocument.CreatedDate",
    "ContentDocument.LatestPublishedVersion.PathOnClient",
)
#: Fields of a new ContentVersion read back to confirm an upload.
VERSION_FIELDS = (
    "Id",
    "ContentDocumentId",
    "ContentSize",
    "FileExtension",
    "Title",
    "PathOnClient",
    "Checksum",
)
#: An org rejects a JSON request body over 50 MB (52,428,800 bytes) with JSON_PARSER_ERROR.
#: A file sent as base64 in such a body can therefore hold about 37.5 MB.
MAX_JSON_BODY_BYTES = 52_428_800
_PATH_LENGTH = 500
_TITLE_LENGTH = 255
_VERSION_PREFIX = "068"
_CASE_PREFIX = "500"
#: Python's own extension table, not the host's, so that guesses do not vary by machine.
_TYPES = mimetypes.MimeTypes()


def guess_type(filename: str) -> str | None:
    """Return the media type usual for the file's extension, or None."""
    stem, dot, extension = filename.rpartition(".")
    if not (dot and stem and extension):
        return None
    return _TYPES.types_map[True].get("." + extension.lower())


def _title(filename: str) -> str:
    stem, dot, _ = filename.rpartition(".")
    return (stem if dot and stem else filename)[:_TITLE_LENGTH]


def _created(row: Mapping[str, Any]) -> tuple[datetime, str]:
    document = row["ContentDocument"]
    return parse_timestamp(str(document["CreatedDate"])), str(row["ContentDocumentId"])


def _to_attachment(row: Mapping[str, Any]) -> AttachmentMeta:
    """Build an attachment from a link row; raise KeyError, TypeError or ValueError if unreadable."""
    document = row["ContentDocument"]
    version = document["LatestPublishedVersion"]
    filename = str(version["PathOnClient"])
    size = document.get("ContentSize")
    return AttachmentMeta(
        source_id=normalize_id(str(document["LatestPublishedVersionId"])),
        filename=filename,
        size=int(size) if size is not None else None,
        content_type=guess_type(filename),
    )


def _is_id(value: Any, expected: str) -> bool:
    try:
        return value is not None and normalize_id(str(value)) == expected
    except ValueError:
        return False


def _confirmation_problem(row: Mapping[str, Any], version_id: str, content: bytes) -> str | None:
    """Return why a read-back version does not confirm the upload, or None if it does."""
    if not _is_id(row.get("Id"), version_id):
        return "the version read back has another id or none"
    size = row.get("ContentSize")
    if size != len(content):
        return f"the org stored {size} bytes, not the {len(content)} sent"
    checksum = row.get("Checksum")
    expected = hashlib.md5(content, usedforsecurity=False).hexdigest()
    if checksum and str(checksum).lower() != expected:
        return "the org's MD5 Checksum differs from that of the bytes sent"
    return None


class CaseFiles:
    """The file calls of one connector, on Cases whose ids the caller has checked."""

    def __init__(
        self,
        connector: str,
        client: SalesforceClient,
        fail: Callable[[str], Fail],
        query_limit: int,
    ) -> None:
        self._connector = connector
        self._client = client
        self._fail = fail
        self._query_limit = query_limit

    def list_files(self, case_id: str) -> list[AttachmentMeta]:
        """Read every file linked to a Case, oldest document first."""
        operation = "list_attachments"
        select = Select(
            LINK_FIELDS, "ContentDocumentLink", [f"LinkedEntityId = {id_literal(case_id)}"]
        )
        rows = list(read_all(self._client, select, operation=operation, fail=self._fail(operation)))
        try:
            return [_to_attachment(row) for row in sorted(rows, key=_created)]
        except (KeyError, TypeError, ValueError) as exc:
            msg = (
                f"unreadable ContentDocumentLink row ({type(exc).__name__}); check that the "
                "integration user can read the Case's files"
            )
            raise PermanentError(
                msg, connector=self._connector, operation=operation, record=case_id
            ) from exc

    def download(self, attachment: AttachmentMeta) -> bytes:
        """Read the bytes of a listed file's version; raise RetryableError if some are missing."""
        operation = "download_attachment"
        version_id = self._version_id(attachment.source_id, operation)
        content = self._client.download(
            "ContentVersion", version_id, "VersionData", operation=operation
        )
        if attachment.size is not None and len(content) != attachment.size:
            msg = f"the download has {len(content)} bytes, but the file has {attachment.size}"
            raise RetryableError(
                msg, connector=self._connector, operation=operation, record=version_id
            )
        return content

    def upload(self, case_id: str, filename: str, content: bytes) -> AttachmentMeta:
        """Insert a ContentVersion linked to the Case and return it as the org stored it."""
        operation = "upload_attachment"
        values = self._version_values(case_id, filename, content, operation)
        version_id = self._client.create("ContentVersion", values, operation=operation)
        row = self._client.get("ContentVersion", version_id, VERSION_FIELDS, operation=operation)
        problem = _confirmation_problem(row, version_id, content)
        if problem is not None:
            msg = f"{problem}; the upload is not confirmed"
            raise RejectedError(
                msg, connector=self._connector, operation=operation, record=version_id
            )
        return AttachmentMeta(
            source_id=version_id,
            filename=str(row.get("PathOnClient") or filename),
            size=len(content),
            content_type=guess_type(filename),
        )

    def cases_with_new_files(self, since: datetime, operation: str) -> set[str]:
        """Return the Cases on which a file was first published at or after `since`.

        TODO: a file uploaded elsewhere and linked to a Case later is not found, because a
        ContentDocumentLink query must name its documents or records and so cannot be polled.
        """
        rows = read_changes(
            self._client,
            Select(["Id", "FirstPublishLocationId", "SystemModstamp"], "ContentVersion"),
            since=since,
            limit=self._query_limit,
            operation=operation,
            fail=self._fail(operation),
        )
        return set(_case_ids(row.get("FirstPublishLocationId") for row in rows))

    def _version_values(
        self, case_id: str, filename: str, content: bytes, operation: str
    ) -> dict[str, Any]:
        """Build the insert body; raise RejectedError for a body the org would refuse."""
        where: dict[str, Any] = {
            "connector": self._connector,
            "operation": operation,
            "record": case_id,
        }
        if not filename or len(filename) > _PATH_LENGTH:
            msg = f"the file name has {len(filename)} characters; a PathOnClient holds 1 to 500"
            raise RejectedError(msg, **where)

        values = {
            "Title": _title(filename),
            "PathOnClient": filename,
            "VersionData": base64.b64encode(content).decode("ascii"),
            "FirstPublishLocationId": case_id,
        }
        # simple-salesforce sends json.dumps(values), so this is the body's exact length.
        body_bytes = len(json.dumps(values))
        if body_bytes > MAX_JSON_BODY_BYTES:
            # TODO: a multipart insert takes ContentVersions up to 2 GB; only JSON is sent.
            msg = (
                f"the file has {len(content)} bytes, so its JSON insert body has {body_bytes}; "
                f"an org accepts at most {MAX_JSON_BODY_BYTES}"
            )
            raise RejectedError(msg, **where)
        return values

    def _version_id(self, source_id: str, operation: str) -> str:
        try:
            version_id = normalize_id(source_id)
        except ValueError:
            version_id = ""
        if not version_id.startswith(_VERSION_PREFIX):
            msg = "not a ContentVersion id (18 characters starting with 068)"
            raise NotFoundError(
                msg, connector=self._connector, operation=operation, record=source_id
            )
        return version_id


def _case_ids(values: Iterable[Any]) -> Iterable[str]:
    for value in values:
        if not value:
            continue
        record_id = normalize_id(str(value))
        if record_id.startswith(_CASE_PREFIX):
            yield record_id
