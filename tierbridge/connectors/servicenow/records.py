"""Conversion between Table API rows (all strings) and the connector's flat `NativeRecord` shape."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from tierbridge.core.connector import NativeRecord
from tierbridge.core.model import Comment, utc

__all__ = [
    "GROUP_FIELDS",
    "JOURNAL_FIELDS",
    "NATIVE_FIELDS",
    "READ_FIELDS",
    "USER_FIELDS",
    "WRITABLE_FIELDS",
    "format_datetime",
    "parse_datetime",
    "reference_ids",
    "to_comment",
    "to_native",
    "version_of",
]

#: Fields handed to the mapping, by their ServiceNow names.
NATIVE_FIELDS = (
    "short_description",
    "description",
    "state",
    "impact",
    "urgency",
    "priority",
    "category",
    "subcategory",
    "assignment_group",
    "assigned_to",
    "caller_id",
    "close_code",
    "close_notes",
    "correlation_id",
    "correlation_display",
    "hold_reason",
)
#: References read as the user's e-mail address.
USER_FIELDS = ("assigned_to", "caller_id")
#: References read as the group's name.
GROUP_FIELDS = ("assignment_group",)
#: `priority` is derived from impact and urgency, so it is read but never written.
WRITABLE_FIELDS = tuple(name for name in NATIVE_FIELDS if name != "priority")
#: Fields every read requests (`sysparm_fields`).
READ_FIELDS = (
    "sys_id",
    "number",
    "sys_mod_count",
    "sys_created_on",
    "sys_updated_on",
    "sys_updated_by",
    *NATIVE_FIELDS,
)
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


def reference_ids(rows: Iterable[Mapping[str, str]]) -> tuple[set[str], set[str]]:
    """Collect the user and group sys_ids that rows refer to, for one batched lookup."""
    users: set[str] = set()
    groups: set[str] = set()
    for row in rows:
        users.update(row[name] for name in USER_FIELDS if row.get(name))
        groups.update(row[name] for name in GROUP_FIELDS if row.get(name))
    return users, groups


def to_native(
    row: Mapping[str, str],
    *,
    user_email: Callable[[str], str | None],
    group_name: Callable[[str], str | None],
) -> NativeRecord:
    """Build a NativeRecord from a value-mode row; references become e-mails and group names.

    Raises ValueError if sys_updated_on is empty or a date is not `YYYY-MM-DD HH:MM:SS`.
    """
    fields: dict[str, Any] = {}
    for name in NATIVE_FIELDS:
        value = row.get(name, "")
        if value and name in USER_FIELDS:
            fields[name] = user_email(value)
        elif value and name in GROUP_FIELDS:
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
