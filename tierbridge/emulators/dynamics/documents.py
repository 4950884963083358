"""Files on notes: `documentbody` (Base64), `filesize` and the organisation's upload limit.

A note (`annotation`) contains at most one file. Dataverse stores its bytes as a Base64 string
in `documentbody`, and computes the read-only `filesize` (bytes of the decoded file).
`organization.maxuploadfilesize` (default 5,242,880) caps the length of the Base64 string,
not the decoded size, so by default the largest file a note takes is 3,932,160 bytes.
A longer string is rejected with error `0x80044a02`. Source: Microsoft Learn, "Use file
data with Attachment and Note records" (Dataverse developer guide). That page gives the
code and message but no HTTP status, so the 400 sent here is an assumption.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tierbridge.emulators.dynamics.envelope import INVALID_ARGUMENT, odata_error

__all__ = [
    "DEFAULT_MAX_UPLOAD_FILE_SIZE",
    "FILE_SIZE_TOO_BIG",
    "StoredFile",
    "check_document",
    "truncated",
]

#: `organization.maxuploadfilesize` of a new organisation, in Base64 characters.
DEFAULT_MAX_UPLOAD_FILE_SIZE = 5 * 1024 * 1024
#: Error code of `unManagedidsattachmentinvalidfilesize`.
FILE_SIZE_TOO_BIG = "0x80044a02"


@dataclass(frozen=True)
class StoredFile:
    """A file note as the emulator stores it, with its bytes decoded."""

    annotation_id: str
    filename: str | None
    mimetype: str | None
    content: bytes
    notetext: str | None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> StoredFile:
        return cls(
            annotation_id=str(row["annotationid"]),
            filename=row.get("filename"),
            mimetype=row.get("mimetype"),
            content=base64.b64decode(row.get("documentbody") or ""),
            notetext=row.get("notetext"),
        )


def _decode(body: str) -> bytes:
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        # NOTE: Dataverse's message for an invalid body is not known, so this one is invented.
        raise odata_error(
            400, INVALID_ARGUMENT, "documentbody is not a valid Base64 string."
        ) from None


def check_document(row: dict[str, Any], max_upload_file_size: int) -> None:
    """Check a note's file against the upload limit, and fill `filesize` and `isdocument`.

    Runs on create and on every update that writes `documentbody`. A note without a file
    keeps `filesize` None. NOTE: any note with a file gets `isdocument` true here. Clients
    should still send it, because Dataverse does not document this default.
    """
    body = row.get("documentbody")
    if body is None:
        row["filesize"] = None
        return
    if len(body) > max_upload_file_size:
        raise odata_error(400, FILE_SIZE_TOO_BIG, "Attachment file size is too big.")
    row["filesize"] = len(_decode(body))
    row["isdocument"] = True


def truncated(body: str) -> str:
    """Return a Base64 body whose file lost its last byte, as a cut transfer would leave it."""
    content = _decode(body)
    return base64.b64encode(content[:-1]).decode("ascii")
