from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from tierbridge.connectors.jira.queries import (
    changed_since_jql,
    correlation_jql,
    jql_minute,
    jql_string,
)

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        ("Europe/Berlin", "2024-05-01 09:15"),
        ("Asia/Kolkata", "2024-05-01 12:45"),
        ("UTC", "2024-05-01 07:15"),
    ],
)
def test_minute_in_user_zone(zone: str, expected: str) -> None:
    """The UTC watermark is shown in the user's zone and floored to the minute."""
    since = datetime(2024, 5, 1, 7, 15, 59, 999000, tzinfo=UTC)

    assert jql_minute(since, ZoneInfo(zone)) == expected


def test_minute_requires_aware() -> None:
    """A naive watermark is refused rather than guessed."""
    with pytest.raises(ValueError, match="no time zone"):
        jql_minute(datetime(2024, 5, 1, 7, 15), BERLIN)


@pytest.mark.parametrize(
    ("since", "expected"),
    [
        # 00:30 UTC is 02:30 CEST, the first of the two 02:30s: moved back by an hour.
        (datetime(2024, 10, 27, 0, 30, tzinfo=UTC), "2024-10-27 01:30"),
        # 01:30 UTC is 02:30 CET, the second 02:30: either reading is not later.
        (datetime(2024, 10, 27, 1, 30, tzinfo=UTC), "2024-10-27 02:30"),
        (datetime(2024, 10, 27, 2, 30, tzinfo=UTC), "2024-10-27 03:30"),
    ],
)
def test_minute_repeated_hour(since: datetime, expected: str) -> None:
    """In the repeated autumn hour the literal never starts after the watermark."""
    assert jql_minute(since, BERLIN) == expected


def test_jql_string_escapes() -> None:
    """Quotes and backslashes are escaped inside JQL strings."""
    assert jql_string('a "b" \\c') == '"a \\"b\\" \\\\c"'


def test_changed_since_jql() -> None:
    """The incremental query bounds project and time and orders oldest first."""
    since = datetime(2024, 5, 1, 7, 15, 42, tzinfo=UTC)

    assert changed_since_jql("L2", since, BERLIN) == (
        'project = "L2" AND updated >= "2024-05-01 09:15" ORDER BY updated ASC, key ASC'
    )
    assert changed_since_jql("L2", None, BERLIN) == ('project = "L2" ORDER BY updated ASC, key ASC')


def test_correlation_jql_phrase() -> None:
    """The correlation value is searched as a quoted phrase on cf[id]."""
    assert correlation_jql("L2", "customfield_10060", "snow:INC1") == (
        'project = "L2" AND cf[10060] ~ "\\"snow:INC1\\"" ORDER BY updated ASC, key ASC'
    )
