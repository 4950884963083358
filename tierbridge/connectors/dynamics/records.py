"""Conversion between Web API case rows and the connector's flat `NativeRecord` shape.

Choice columns stay integers (`prioritycode` 1); their labels are display-only and not
used here. The customer reads as the e-mail address of the expanded contact or account, the
owner as the user's e-mail address or the team's name. Date-times are UTC ISO 8601 with `Z`;
date-only columns read as `datetime.date` and are written as plain `YYYY-MM-DD`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from tierbridge.core.connector import NativeRecord
from tierbridge.core.model import Comment

__all__ = [
    "CHOICE_FIELDS",
    "EXPAND",
    "FORMATTED",
    "LOGICAL_NAME",
    "NOTE_SELECT",
    "TEXT_FIELDS",
    "etag_of",
    "format_datetime",
    "parse_datetime",
    "select_for",
    "to_comment",
    "to_native",
    "version_of",
]

FORMATTED = "OData.Community.Display.V1.FormattedValue"
LOGICAL_NAME = "Microsoft.Dynamics.CRM.lookuplogicalname"
#: Plain text columns handed to the mapping and written as given.
TEXT_FIELDS = ("title", "description")
#: Choice columns handed to the mapping as integers.
CHOICE_FIELDS = ("statecode", "statuscode", "prioritycode", "caseorigincode")
#: Lookups expanded in the same request, so that no extra call reads e-mail addresses.
EXPAND = (
    "customerid_contact($select=emailaddress1),"
    "customerid_account($select=emailaddress1),"
    "owninguser($select=internalemailaddress)"
)
_SYSTEM_COLUMNS = (
    "incidentid",
    "ticketnumber",
    "createdon",
    "modifiedon",
    "versionnumber",
    "_modifiedby_value",
    "_customerid_value",
    "_ownerid_value",
)
#: Columns read from notes and activities.
NOTE_SELECT = "subject,notetext,createdon,_createdby_value"


def select_for(correlation_field: str, date_only_fields: Sequence[str]) -> str:
    """Return the `$select` of every case read."""
    names = [*_SYSTEM_COLUMNS, *TEXT_FIELDS, *CHOICE_FIELDS, correlation_field, *date_only_fields]
    return ",".join(dict.fromkeys(names))


def parse_datetime(text: Any) -> datetime | None:
    """Parse a Web API date-time (`2024-05-01T07:15:42Z`); None or "" gives None."""
    if not text:
        return None
    moment = datetime.fromisoformat(str(text))
    if moment.tzinfo is None:
        raise ValueError(f"date-time {text!r} has no zone")
    return moment.astimezone(UTC)


def format_datetime(moment: datetime) -> str:
    """Format an aware datetime as an unquoted OData literal in UTC, whole seconds, `Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def version_of(versionnumber: Any) -> str:
    """Return `versionnumber` zero-padded to 20 digits, so versions sort as text."""
    return f"{int(versionnumber):020d}"


def etag_of(row: Mapping[str, Any]) -> str:
    """Return the row's `@odata.etag`, or `*` when it has none (any version matches)."""
    value = row.get("@odata.etag")
    return value if isinstance(value, str) and value else "*"


def _email(expanded: Any, column: str) -> str | None:
    if isinstance(expanded, Mapping):
        value = expanded.get(column)
        return str(value) if value else None
    return None


def _owner(row: Mapping[str, Any]) -> str | None:
    if not row.get("_ownerid_value"):
        return None
    if row.get(f"_ownerid_value@{LOGICAL_NAME}") == "team":
        name = row.get(f"_ownerid_value@{FORMATTED}")
        return str(name) if name else None
    return _email(row.get("owninguser"), "internalemailaddress")


def _choice(value: Any) -> int | None:
    return None if value is None else int(value)


def to_native(
    row: Mapping[str, Any], correlation_field: str, date_only_fields: Sequence[str]
) -> NativeRecord:
    """Build a NativeRecord from a case row read with `select_for` and `EXPAND`.

    Raises ValueError or KeyError when the id, the version or `modifiedon` is missing or
    not of its type.
    """
    fields: dict[str, Any] = {name: row.get(name) or None for name in TEXT_FIELDS}
    fields.update({name: _choice(row.get(name)) for name in CHOICE_FIELDS})
    fields["customerid"] = _email(row.get("customerid_contact"), "emailaddress1") or _email(
        row.get("customerid_account"), "emailaddress1"
    )
    fields["ownerid"] = _owner(row)
    fields[correlation_field] = row.get(correlation_field) or None
    for name in date_only_fields:
        value = row.get(name)
        fields[name] = date.fromisoformat(value) if value else None

    updated = parse_datetime(row.get("modifiedon"))
    if updated is None:
        raise ValueError("modifiedon is empty")
    return NativeRecord(
        id=str(row["incidentid"]),
        key=row.get("ticketnumber") or None,
        version=version_of(row["versionnumber"]),
        updated=updated,
        fields=fields,
        created=parse_datetime(row.get("createdon")),
        updated_by=row.get("_modifiedby_value") or None,
    )


def to_comment(
    row: Mapping[str, Any], *, public: bool, id_column: str, text_column: str
) -> Comment:
    """Build a Comment from a note (`annotationid`, `notetext`) or an activity row."""
    author = row.get(f"_createdby_value@{FORMATTED}") or row.get("_createdby_value")
    return Comment(
        source_id=str(row[id_column]),
        body=str(row.get(text_column) or ""),
        public=public,
        author=str(author) if author else None,
        created=parse_datetime(row.get("createdon")),
    )
