"""Turn Jira issue JSON into `NativeRecord` and Jira timestamps into UTC versions."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from tierbridge.connectors.jira.adf import adf_to_text
from tierbridge.core.connector import NativeRecord

__all__ = ["format_version", "parse_jira_time", "record_fields", "to_record"]

_TIME_FORMATS = ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z")


def record_fields(correlation_field: str, category_field: str) -> list[str]:
    """The issue fields every read asks for; Cloud search returns only ids unless told."""
    return [
        "summary",
        "description",
        "status",
        "priority",
        "assignee",
        "reporter",
        "resolution",
        "labels",
        "created",
        "updated",
        correlation_field,
        category_field,
    ]


def parse_jira_time(value: str) -> datetime:
    """Parse `2024-05-01T11:03:10.554+0200` (offset with or without colon, or `Z`) to UTC."""
    for pattern in _TIME_FORMATS:
        try:
            return datetime.strptime(value, pattern).astimezone(UTC)
        except ValueError:
            continue
    msg = f"timestamp {value!r} is not in Jira's yyyy-MM-ddTHH:mm:ss.SSSZ form"
    raise ValueError(msg)


def format_version(moment: datetime) -> str:
    """Write a time as UTC ISO 8601 with milliseconds and `Z`, which sorts as text."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _name(value: object) -> str | None:
    return value.get("name") if isinstance(value, Mapping) else None


def _person(value: object) -> str | None:
    """Return a user's e-mail address; None when empty or when privacy settings hide it."""
    return value.get("emailAddress") if isinstance(value, Mapping) else None


def _option(value: object) -> str | None:
    return value.get("value") if isinstance(value, Mapping) else None


def to_record(
    issue: Mapping[str, Any], correlation_field: str, category_field: str
) -> NativeRecord:
    """Flatten an issue read with `record_fields` into a NativeRecord."""
    fields: Mapping[str, Any] = issue["fields"]
    updated = parse_jira_time(fields["updated"])
    created = parse_jira_time(fields["created"]) if fields.get("created") else None
    description = fields.get("description")
    flat: dict[str, Any] = {
        "summary": fields.get("summary"),
        "description": adf_to_text(description) if isinstance(description, Mapping) else None,
        "status": _name(fields.get("status")),
        "priority": _name(fields.get("priority")),
        "assignee": _person(fields.get("assignee")),
        "reporter": _person(fields.get("reporter")),
        "resolution": _name(fields.get("resolution")),
        correlation_field: fields.get(correlation_field),
        category_field: _option(fields.get(category_field)),
        "labels": list(fields.get("labels") or []),
    }
    return NativeRecord(
        id=str(issue["id"]),
        key=issue.get("key"),
        version=format_version(updated),
        updated=updated,
        created=created,
        fields=flat,
    )
