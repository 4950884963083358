"""Build the JQL the connector sends.

Jira reads date literals in JQL (`"yyyy-MM-dd HH:mm"`) in the time zone of the user running
the search, and only to the minute, so a UTC watermark is converted to that zone and floored.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tierbridge.core.model import utc

__all__ = ["changed_since_jql", "correlation_jql", "jql_minute", "jql_string"]

_ORDER = "ORDER BY updated ASC, key ASC"


def jql_string(value: str) -> str:
    """Quote a value as a JQL string literal."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def jql_minute(since: datetime, zone: ZoneInfo) -> str:
    """Return `since` as a JQL date literal in `zone`, floored to the minute.

    When the local wall time occurs twice (the hour repeated when daylight saving time ends),
    Jira may read the literal as the later of the two, so the literal is moved back by the
    difference to never start after `since`.
    """
    moment = utc(since)
    local = moment.astimezone(zone)
    other = local.replace(fold=1 - local.fold)
    local_offset = local.utcoffset() or timedelta(0)
    other_offset = other.utcoffset() or timedelta(0)
    if other_offset != local_offset:
        local = (moment - abs(other_offset - local_offset)).astimezone(zone)
    return local.strftime("%Y-%m-%d %H:%M")


def changed_since_jql(project: str, since: datetime | None, zone: ZoneInfo) -> str:
    """JQL for the project's issues updated at or after `since` (all of them if None)."""
    clauses = [f"project = {jql_string(project)}"]
    if since is not None:
        clauses.append(f"updated >= {jql_string(jql_minute(since, zone))}")
    return " AND ".join(clauses) + f" {_ORDER}"


def correlation_jql(project: str, correlation_field: str, value: str) -> str:
    """JQL that finds issues whose correlation field contains `value` as a phrase.

    `~` is a word search, not an equality test, so callers compare the field exactly.
    """
    number = correlation_field.removeprefix("customfield_")
    phrase = jql_string(f'"{value}"')
    return f"project = {jql_string(project)} AND cf[{number}] ~ {phrase} {_ORDER}"
