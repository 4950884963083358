"""Salesforce Files in the emulator: what a ContentVersion insert derives and what it creates.

An org keeps a file as a ContentVersion (the bytes and the path they were uploaded from),
a ContentDocument that points at its latest version, and ContentDocumentLinks that share the
document with records and users. A version inserted with `FirstPublishLocationId` is linked
to that record (ShareType V) and to its uploader (ShareType I); without it, to the uploader
only. The record itself is not changed: a Case keeps its SystemModstamp, and no outbound
message is sent for it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tierbridge.emulators.salesforce.errors import FieldError, errors_response
from tierbridge.emulators.salesforce.fieldpaths import Record, RecordSource
from tierbridge.emulators.salesforce.soql_syntax import (
    Comparison,
    Condition,
    Junction,
    Membership,
    Query,
    SoqlError,
)

__all__ = [
    "StoredFile",
    "check_link_filter",
    "decode_version_data",
    "document_values",
    "link_values",
    "stored_files",
    "version_rules",
]

#: FileType by lower-case extension; other extensions give UNKNOWN.
_FILE_TYPES = {
    "pdf": "PDF",
    "png": "PNG",
    "jpg": "JPG",
    "jpeg": "JPG",
    "gif": "GIF",
    "txt": "TEXT",
    "csv": "CSV",
    "doc": "WORD",
    "docx": "WORD_X",
    "xls": "EXCEL",
    "xlsx": "EXCEL_X",
    "zip": "ZIP",
}
_TITLE_LENGTH = 255
_SEPARATORS = re.compile(r"[\\/]")
#: Fields whose filter lets a query read ContentDocumentLink, as the org requires.
_LINK_FILTER_FIELDS = {"id", "linkedentityid", "contentdocumentid"}
_LINK_RESTRICTION = (
    "Implementation restriction: ContentDocumentLink requires a filter by a single Id on "
    "ContentDocumentId or LinkedEntityId using the equals operator or multiple Id's using "
    "the IN operator."
)


def decode_version_data(raw: Any) -> tuple[bytes | None, FieldError | None]:
    """Decode the base64 text of VersionData, or return the error entry it causes."""
    if not isinstance(raw, str):
        message = "Cannot deserialize VersionData from a JSON value that is not a string"
        return None, ("JSON_PARSER_ERROR", message, ["VersionData"])
    try:
        return base64.b64decode(raw, validate=True), None
    except (binascii.Error, ValueError):
        message = "Cannot deserialize VersionData: the value is not base64 text"
        return None, ("JSON_PARSER_ERROR", message, ["VersionData"])


def _file_name(path: str) -> str:
    return _SEPARATORS.split(path)[-1]


def _extension(path: str) -> str | None:
    stem, dot, extension = _file_name(path).rpartition(".")
    return extension.lower() if dot and stem and extension else None


def _title(path: str) -> str:
    name = _file_name(path)
    stem, dot, _ = name.rpartition(".")
    return (stem if dot and stem else name)[:_TITLE_LENGTH]


def version_rules(record: Record) -> None:
    """Check a new ContentVersion and fill the fields the org derives from its file."""
    missing = [name for name in ("PathOnClient", "VersionData") if record.get(name) is None]
    if missing:
        message = f"Required fields are missing: [{', '.join(missing)}]"
        raise errors_response(400, [("REQUIRED_FIELD_MISSING", message, missing)])

    path = str(record["PathOnClient"])
    content: bytes = record["VersionData"]
    extension = _extension(path)
    record["Title"] = record.get("Title") or _title(path)
    record["FileExtension"] = extension
    record["FileType"] = _FILE_TYPES.get(extension or "", "UNKNOWN")
    record["ContentSize"] = len(content)
    record["Checksum"] = hashlib.md5(content, usedforsecurity=False).hexdigest()
    record["IsLatest"] = True
    record["VersionNumber"] = "1"


def document_values(version: Mapping[str, Any], owner_id: str) -> dict[str, Any]:
    """Return the fields of the ContentDocument that a new version starts."""
    copied = ("Title", "FileExtension", "FileType", "ContentSize")
    return {
        **{name: version[name] for name in copied},
        "LatestPublishedVersionId": version["Id"],
        "OwnerId": owner_id,
    }


def link_values(version: Mapping[str, Any], owner_id: str) -> list[dict[str, Any]]:
    """Return the links a new document gets: to its first location, then to its uploader."""
    document_id = version["ContentDocumentId"]
    links = []
    location = version.get("FirstPublishLocationId")
    if location and location != owner_id:
        links.append(
            {
                "ContentDocumentId": document_id,
                "LinkedEntityId": location,
                "ShareType": "V",
                "Visibility": "AllUsers",
            }
        )
    owner = {"LinkedEntityId": owner_id, "ShareType": "I", "Visibility": "AllUsers"}
    links.append({"ContentDocumentId": document_id, **owner})
    return links


def _filters_link(condition: Condition) -> bool:
    if isinstance(condition, Junction):
        return condition.operator == "AND" and any(_filters_link(p) for p in condition.parts)
    if isinstance(condition, Comparison | Membership):
        named = len(condition.path.parts) == 1 and condition.path.parts[0].lower()
        if isinstance(condition, Comparison):
            return named in _LINK_FILTER_FIELDS and condition.operator == "="
        return named in _LINK_FILTER_FIELDS and not condition.negated
    return False


def check_link_filter(query: Query) -> None:
    """Raise the org's error for a ContentDocumentLink query without an id filter.

    The org accepts `=` or `IN` on Id, LinkedEntityId or ContentDocumentId, joined to the
    rest of the WHERE clause by AND. A child subquery is filtered by its parent and is not
    checked.
    """
    if query.where is None or not _filters_link(query.where):
        raise SoqlError("MALFORMED_QUERY", _LINK_RESTRICTION)


@dataclass(frozen=True)
class StoredFile:
    """One file linked to a record: its latest version and the bytes stored for it."""

    version_id: str
    document_id: str
    filename: str
    content: bytes
    created: datetime


def stored_files(source: RecordSource, record_id: str) -> list[StoredFile]:
    """Return the files linked to a record, oldest first."""
    links = [
        link
        for link in source.rows("ContentDocumentLink", include_deleted=False)
        if link["LinkedEntityId"] == record_id
    ]
    files = []
    for link in links:
        document = source.find(link["ContentDocumentId"])
        version = source.find(document[1]["LatestPublishedVersionId"]) if document else None
        if document is None or version is None:
            continue
        files.append(
            StoredFile(
                version_id=version[1]["Id"],
                document_id=document[1]["Id"],
                filename=version[1]["PathOnClient"],
                content=version[1]["VersionData"],
                created=document[1]["CreatedDate"],
            )
        )
    return sorted(files, key=lambda stored: (stored.created, stored.document_id))
