"""Conversion between Case and CaseComment rows and the connector's `NativeRecord` and `Comment`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from tierbridge.connectors.salesforce.ids import normalize_id
from tierbridge.core.connector import NativeRecord
from tierbridge.core.model import Comment

__all__ = [
    "COMMENT_FIELDS",
    "LATEST_COMMENT",
    "LATEST_FILE",
    "NATIVE_FIELDS",
    "READ_ONLY_FIELDS",
    "case_fields",
    "format_version",
    "parse_timestamp",
    "to_comment",
    "to_native",
]

#: Case fields handed to the mapping; the correlation field is added per connector.
NATIVE_FIELDS = (
    "Subject",
    "Description",
    "Status",
    "Priority",
    "Origin",
    "Type",
    "Reason",
    "OwnerId",
    "ContactEmail",
    "SuppliedEmail",
    "IsClosed",
)
#: Fields the org derives or computes; a write naming them is refused before it is sent.
READ_ONLY_FIELDS = ("IsClosed", "ContactEmail")
#: The newest comment's timestamp: a comment moves the record's version but not the Case's.
LATEST_COMMENT = "(SELECT SystemModstamp FROM CaseComments ORDER BY SystemModstamp DESC LIMIT 1)"
#: The newest file link's timestamp: attaching a file does not change the Case either.
#: NOTE: a new version of a file that is already linked leaves the link, and so the version.
LATEST_FILE = (
    "(SELECT SystemModstamp FROM ContentDocumentLinks ORDER BY SystemModstamp DESC LIMIT 1)"
)
COMMENT_FIELDS = (
    "Id",
    "ParentId",
    "CommentBody",
    "IsPublished",
    "CreatedById",
    "CreatedBy.Name",
    "CreatedDate",
    "SystemModstamp",
)
_FORMATS = ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z")


def case_fields(correlation_field: str) -> list[str]:
    """Return the SELECT list of every Case read."""
    system = ["Id", "CaseNumber", "CreatedDate", "LastModifiedById", "SystemModstamp"]
    return [*system, *NATIVE_FIELDS, correlation_field, LATEST_COMMENT, LATEST_FILE]


def parse_timestamp(text: str) -> datetime:
    """Parse `2024-05-01T07:15:42.000+0000` (or `...Z`, or no fraction) to an aware UTC time."""
    for pattern in _FORMATS:
        try:
            return datetime.strptime(text, pattern).astimezone(UTC)
        except ValueError:
            continue
    raise ValueError(f"timestamp {text!r} is not an ISO 8601 date-time with a zone")


def format_version(moment: datetime) -> str:
    """Write a time as UTC ISO 8601 with milliseconds and `Z`, which sorts as text."""
    stamp = moment.astimezone(UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


def _latest_child(row: Mapping[str, Any], relationship: str) -> datetime | None:
    related = row.get(relationship)
    records = related.get("records") if isinstance(related, Mapping) else None
    if not records:
        return None
    return parse_timestamp(str(records[0]["SystemModstamp"]))


def to_native(
    row: Mapping[str, Any],
    *,
    correlation_field: str,
    own_user_id: str | None,
    integration_user: str | None,
) -> NativeRecord:
    """Build a NativeRecord from a Case row read with `case_fields`.

    The version and `updated` are the latest of the SystemModstamps of the Case, its newest
    comment and its newest file link. `updated_by` is `integration_user` (as configured) when the last change was
    made by the user our token runs as, else the LastModifiedById. Raises ValueError or
    KeyError for a row without Id or with an unreadable timestamp.

    NOTE: another integration that runs as the same user would read as our own writes, so
    give the connected app a user of its own.
    """
    stamps = [
        parse_timestamp(str(row["SystemModstamp"])),
        _latest_child(row, "CaseComments"),
        _latest_child(row, "ContentDocumentLinks"),
    ]
    updated = max(stamp for stamp in stamps if stamp is not None)
    fields: dict[str, Any] = {name: row.get(name) for name in NATIVE_FIELDS}
    fields[correlation_field] = row.get(correlation_field)
    if fields["OwnerId"]:
        fields["OwnerId"] = normalize_id(str(fields["OwnerId"]))

    modifier = normalize_id(str(row["LastModifiedById"])) if row.get("LastModifiedById") else None
    updated_by = modifier
    if modifier is not None and modifier == own_user_id:
        updated_by = integration_user or modifier
    created = row.get("CreatedDate")
    return NativeRecord(
        id=normalize_id(str(row["Id"])),
        key=row.get("CaseNumber"),
        version=format_version(updated),
        updated=updated,
        fields=fields,
        created=parse_timestamp(str(created)) if created else None,
        updated_by=updated_by,
    )


def to_comment(row: Mapping[str, Any]) -> Comment:
    """Build a Comment from a CaseComment row; `IsPublished` comments are the public ones."""
    creator = row.get("CreatedBy")
    author = creator.get("Name") if isinstance(creator, Mapping) else None
    created = row.get("CreatedDate")
    return Comment(
        source_id=normalize_id(str(row["Id"])),
        body=str(row.get("CommentBody") or ""),
        public=row.get("IsPublished") is True,
        author=author or row.get("CreatedById"),
        created=parse_timestamp(str(created)) if created else None,
    )
