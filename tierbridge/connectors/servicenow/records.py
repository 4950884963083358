"""Conversion between Table API rows (all strings) and the connector's flat `NativeRecord` shape."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from tierbridge.connectors.servicenow.tables import INCIDENT, TableProfile
from tierbridge.core.connector import NativeRecord
from tierbridge.core.model import Comment, utc

__all__ = [
    "GROUP_FIELDS",
    "JOURNAL_FIELDS",
    "NATIVE_FIELDS",
    "READ_FIELDS",
    "USER_FIELDS",
    "WRITABLE_FIELDS",
    "attachment_version",
    "format_datetime",
    "parse_datetime",
    "reference_ids",
    "to_comment",
    "to_native",
    "version_of",
]

#: The incident table's field lists, kept as module names for callers that predate CSM.
NATIVE_FIELDS = INCIDENT.native_fields
USER_FIELDS = INCIDENT.user_fields
GROUP_FIELDS = INCIDENT.group_fields
WRITABLE_FIELDS = INCIDENT.writable_fields
READ_FIELDS = INCIDENT.read_fields
JOURNAL_FIELDS = ("sys_id", "element", "value", "sys_created_on", "sys_created_by")

_FORMAT = "%Y-%m-%d %H:%M:%S"


def parse_datetime(text: str) -> datetime | None:
    """Parse a Table API date-time (`2024-05-01 07:15:42`, always UTC); "" gives None."""
    if not text:
        return None
    return datetime.strptime(text, _FORMAT).replace(tzinfo=UTC)


def format_datetime(moment: datetime) -> str:
    """Format an aware datetime as a UTC Table API literal, dropping fractions of a second."""
    return utc(moment).strftime(_FORMAT)


def version_of(mod_count: str) -> str:
    """Return `sys_mod_count` zero-padded to 10 digits, so versions sort as text."""
    return f"{int(mod_count or '0'):010d}"


def attachment_version(version: str, attached: datetime) -> str:
    """Extend a record's version with the time a file was attached after its last field change.

    `0000000004+20240501T091603Z` sorts after `0000000004`, the field change before the file,
    and before `0000000005`, the next field change. A later file sorts after an earlier one.
    """
    return f"{version}+{utc(attached):%Y%m%dT%H%M%SZ}"


def reference_ids(
    rows: Iterable[Mapping[str, str]], profile: TableProfile = INCIDENT
) -> tuple[set[str], set[str]]:
    """Collect the user and group sys_ids that rows refer to, for one batched lookup."""
    users: set[str] = set()
    groups: set[str] = set()
    for row in rows:
        users.update(row[name] for name in profile.user_fields if row.get(name))
        groups.update(row[name] for name in profile.group_fields if row.get(name))
    return users, groups


def to_native(
    row: Mapping[str, str],
    *,
    user_email: Callable[[str], str | None],
    group_name: Callable[[str], str | None],
    profile: TableProfile = INCIDENT,
) -> NativeRecord:
    """Build a NativeRecord from a value-mode row; references become e-mails and group names.

    Raises ValueError if sys_updated_on is empty or a date is not `YYYY-MM-DD HH:MM:SS`.
    """
    fields: dict[str, Any] = {}
    for name in profile.native_fields:
        value = row.get(name, "")
        if value and name in profile.user_fields:
            fields[name] = user_email(value)
        elif value and name in profile.group_fields:
            fields[name] = group_name(value)
        else:
            fields[name] = value or None

    updated = parse_datetime(row.get("sys_updated_on", ""))
    if updated is None:
        raise ValueError("sys_updated_on is empty")
    return NativeRecord(
        id=row["sys_id"],
        key=row.get("number") or None,
        version=version_of(row.get("sys_mod_count", "0")),
        updated=updated,
        fields=fields,
        created=parse_datetime(row.get("sys_created_on", "")),
        updated_by=row.get("sys_updated_by") or None,
    )


def to_comment(row: Mapping[str, str]) -> Comment:
    """Build a Comment from a `sys_journal_field` row; `comments` entries are the public ones."""
    return Comment(
        source_id=row["sys_id"],
        body=row.get("value", ""),
        public=row.get("element") == "comments",
        author=row.get("sys_created_by") or None,
        created=parse_datetime(row.get("sys_created_on", "")),
    )
