from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from tierbridge.connectors.jira.records import (
    format_version,
    parse_jira_time,
    record_fields,
    to_record,
)


@pytest.mark.parametrize(
    "value",
    [
        "2024-05-01T11:03:10.554+0200",
        "2024-05-01T14:33:10.554+0530",
        "2024-05-01T09:03:10.554Z",
        "2024-05-01T11:03:10.554+02:00",
    ],
)
def test_parse_jira_time_offsets(value: str) -> None:
    """Offsets with or without colon, and Z, all give the same UTC instant."""
    assert parse_jira_time(value) == datetime(2024, 5, 1, 9, 3, 10, 554000, tzinfo=UTC)


def test_parse_jira_time_without_millis() -> None:
    """Seconds without a fraction are accepted too."""
    assert parse_jira_time("2024-05-01T11:03:10+0200") == datetime(2024, 5, 1, 9, 3, 10, tzinfo=UTC)


def test_parse_jira_time_rejects_garbage() -> None:
    """A value in another format raises ValueError naming it."""
    with pytest.raises(ValueError, match="not in Jira"):
        parse_jira_time("01/05/2024 11:03")


def test_version_is_utc_millis() -> None:
    """Versions are UTC ISO 8601 with milliseconds and Z."""
    moment = datetime(2024, 5, 1, 11, 3, 10, 554999, tzinfo=timezone(timedelta(hours=2)))

    assert format_version(moment) == "2024-05-01T09:03:10.554Z"


def test_versions_sort_as_text() -> None:
    """Later times give lexicographically greater versions across zones."""
    earlier = format_version(parse_jira_time("2024-05-01T14:33:10.554+0530"))
    later = format_version(parse_jira_time("2024-05-01T11:03:10.555+0200"))

    assert earlier < later


def test_record_fields_explicit() -> None:
    """Reads name every field they need, including the custom ones."""
    fields = record_fields("customfield_10060", "customfield_10050")

    assert "customfield_10060" in fields
    assert "customfield_10050" in fields
    assert "updated" in fields


def test_to_record_flattens() -> None:
    """Objects become names, users e-mail addresses, ADF plain text."""
    issue = {
        "id": "10042",
        "key": "ITSM-17",
        "fields": {
            "summary": "VPN drops",
            "description": {
                "type": "doc",
                "version": 1,
                "content": [
                    {"type": "paragraph", "content": [{"type": "text", "text": "Since Monday"}]}
                ],
            },
            "status": {"id": "3", "name": "In Progress"},
            "priority": {"id": "2", "name": "High"},
            "assignee": {"accountId": "a1", "emailAddress": "alex@example.com"},
            "reporter": {"accountId": "qm:1", "displayName": "Sam Roe"},
            "resolution": None,
            "labels": ["vpn"],
            "created": "2024-05-01T09:15:42.117+0200",
            "updated": "2024-05-01T11:03:10.554+0200",
            "customfield_10060": "snow:INC0010023",
            "customfield_10050": {"value": "Network", "id": "10101"},
        },
    }

    record = to_record(issue, "customfield_10060", "customfield_10050")

    assert (record.id, record.key) == ("10042", "ITSM-17")
    assert record.version == "2024-05-01T09:03:10.554Z"
    assert record.updated == datetime(2024, 5, 1, 9, 3, 10, 554000, tzinfo=UTC)
    assert record.created == datetime(2024, 5, 1, 7, 15, 42, 117000, tzinfo=UTC)
    assert record.updated_by is None
    assert record.fields == {
        "summary": "VPN drops",
        "description": "Since Monday",
        "status": "In Progress",
        "priority": "High",
        "assignee": "alex@example.com",
        "reporter": None,
        "resolution": None,
        "customfield_10060": "snow:INC0010023",
        "customfield_10050": "Network",
        "labels": ["vpn"],
    }
