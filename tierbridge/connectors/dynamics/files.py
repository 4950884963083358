"""Files attached to cases: notes (`annotation`) with `isdocument` true.

A note contains at most one file. Its bytes travel as a Base64 string in `documentbody`, and
Dataverse computes `filesize` (bytes of the decoded file) itself. Files are listed through
the case's `Incident_Annotation` relationship, so a missing case returns 404 instead of an
empty list. A file note written here carries no `notetext`, so `NoteStore` never reads it
back as a comment.

The organisation's `maxuploadfilesize` caps the Base64 length of `documentbody`. A longer
one comes back as a 400 (`0x80044a02`, "Attachment file size is too big"), raised as
RejectedError. `DynamicsSettings.attachments` keeps files under it by default.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Mapping
from typing import Any

from tierbridge.connectors.dynamics.client import WebApiClient
from tierbridge.core.errors import NotFoundError, PermanentError, RejectedError
from tierbridge.core.model import AttachmentMeta

__all__ = ["FileStore", "to_attachment"]

_LIST_SELECT = "annotationid,filename,mimetype,filesize,createdon"
_DOWNLOAD_SELECT = "documentbody,filesize,isdocument,_objectid_value"
#: Characters of the file name kept as the note's subject (its title), as for text notes.
_SUBJECT_CHARS = 100


def to_attachment(row: Mapping[str, Any]) -> AttachmentMeta:
    """Build AttachmentMeta from a file note read with `annotationid`, `filename`, `filesize`."""
    size = row.get("filesize")
    return AttachmentMeta(
        source_id=str(row["annotationid"]),
        filename=str(row.get("filename") or ""),
        size=int(size) if size is not None else None,
        content_type=row.get("mimetype") or None,
    )


class FileStore:
    """Lists, reads and writes the files of cases for one connector."""

    def __init__(self, client: WebApiClient) -> None:
        self._client = client

    def _where(self, operation: str, record: str | None) -> dict[str, Any]:
        return {"connector": self._client.connector, "operation": operation, "record": record}

    def _guid(self, value: str, what: str, operation: str) -> str:
        """Return `value` as a lower-case GUID, or raise NotFoundError, because it goes into a URL."""
        try:
            return str(uuid.UUID(value))
        except ValueError:
            msg = f"{what} {value!r} is not a Dataverse GUID, so no such row exists"
            raise NotFoundError(msg, **self._where(operation, value)) from None

    def list(self, ticket_id: str) -> list[AttachmentMeta]:
        """Return the metadata of every file on the case, oldest first, read to the last page."""
        case = self._guid(ticket_id, "case id", "list_attachments")
        path = f"incidents({case})/Incident_Annotation"
        params = {
            "$select": _LIST_SELECT,
            "$filter": "isdocument eq true",
            "$orderby": "createdon asc,annotationid asc",
        }
        files: list[AttachmentMeta] = []
        for page in self._client.pages(path, params, operation="list_attachments", record=path):
            files.extend(self._meta(row, "list_attachments", path) for row in page)
        return files

    def _meta(self, row: Mapping[str, Any], operation: str, record: str) -> AttachmentMeta:
        try:
            return to_attachment(row)
        except (KeyError, TypeError, ValueError) as exc:
            msg = f"unreadable file note ({type(exc).__name__}: {exc}); check the column privileges of the application user"
            raise PermanentError(msg, **self._where(operation, record)) from exc

    def download(self, ticket_id: str, attachment: AttachmentMeta) -> bytes:
        """Return the bytes of a file note, after checking that it hangs off the case."""
        case = self._guid(ticket_id, "case id", "download_attachment")
        note = self._guid(attachment.source_id, "attachment id", "download_attachment")
        record = f"annotations({note})"
        row = self._client.get(
            record,
            operation="download_attachment",
            record=record,
            params={"$select": _DOWNLOAD_SELECT},
        )
        if str(row.get("_objectid_value") or "").lower() != case or not row.get("isdocument"):
            msg = f"note {note} is not a file on case {case}; list the case's files again"
            raise NotFoundError(msg, **self._where("download_attachment", record))
        return self._decode(row, record)

    def _decode(self, row: Mapping[str, Any], record: str) -> bytes:
        where = self._where("download_attachment", record)
        try:
            content = base64.b64decode(row.get("documentbody") or "", validate=True)
        except (binascii.Error, ValueError, TypeError) as exc:
            raise PermanentError("documentbody is not valid Base64", **where) from exc
        size = row.get("filesize")
        if size is not None and size != len(content):
            msg = f"documentbody decodes to {len(content)} bytes but filesize is {size!r}; the stored file is damaged"
            raise PermanentError(msg, **where)
        return content

    def upload(
        self, ticket_id: str, filename: str, content: bytes, content_type: str | None
    ) -> AttachmentMeta:
        """Attach a file as a new note and return its metadata as stored.

        Raises RejectedError unless the note is a document of exactly `len(content)` bytes.
        """
        case = self._guid(ticket_id, "case id", "upload_attachment")
        body: dict[str, Any] = {
            "subject": filename[:_SUBJECT_CHARS] or "Attachment",
            "isdocument": True,
            "filename": filename,
            "documentbody": base64.b64encode(content).decode("ascii"),
            "objectid_incident@odata.bind": f"/incidents({case})",
        }
        if content_type:
            body["mimetype"] = content_type
        row = self._client.create(
            "annotations", body, f"{_LIST_SELECT},isdocument", operation="upload_attachment"
        )
        return self._confirm(row, len(content), f"incidents({case})")

    def _confirm(self, row: Mapping[str, Any], sent: int, record: str) -> AttachmentMeta:
        where = self._where("upload_attachment", record)
        note = row.get("annotationid")
        if not note:
            raise RejectedError("the created note came back without an annotationid", **where)
        size = row.get("filesize")
        if row.get("isdocument") is not True:
            msg = f"note {note} was stored without its file (isdocument is not true); delete it and send the file again"
            raise RejectedError(msg, **where)
        if size != sent:
            msg = f"note {note} stores {size!r} bytes of the {sent} sent; delete it and send the file again"
            raise RejectedError(msg, **where)
        return self._meta(row, "upload_attachment", record)
