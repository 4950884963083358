from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from tierbridge.connectors.servicenow.records import (
    format_datetime,
    parse_datetime,
    reference_ids,
    to_comment,
    to_native,
    version_of,
)

ROW = {
    "sys_id": "6b1f3c2ad74e4a10b8e2f0c9a1d2e3f4",
    "number": "INC0010023",
    "sys_mod_count": "4",
    "sys_created_on": "2024-05-01 07:15:42",
    "sys_updated_on": "2024-05-01 09:03:10",
    "sys_updated_by": "alex.doe",
    "short_description": "VPN drops",
    "description": "",
    "state": "2",
    "assignment_group": "g1",
    "assigned_to": "u1",
    "caller_id": "",
}


def test_version_sorts_as_text() -> None:
    """Versions are zero-padded so "10" sorts after "9"."""
    assert version_of("4") == "0000000004"
    assert version_of("10") > version_of("9")


def test_datetime_round_trip() -> None:
    """Table API dates are UTC; aware datetimes are formatted in UTC without fractions."""
    parsed = parse_datetime("2024-05-01 07:15:42")
    berlin = datetime(2024, 5, 1, 9, 15, 42, 500000, tzinfo=timezone(timedelta(hours=2)))

    assert parsed == datetime(2024, 5, 1, 7, 15, 42, tzinfo=UTC)
    assert format_datetime(berlin) == "2024-05-01 07:15:42"
    assert parse_datetime("") is None


def test_naive_datetime_rejected() -> None:
    """A naive watermark raises ValueError rather than being guessed."""
    with pytest.raises(ValueError, match="time zone"):
        format_datetime(datetime(2024, 5, 1, 7, 15, 42))


def test_to_native_shape() -> None:
    """Rows become NativeRecords: references resolved, empty strings None."""
    record = to_native(
        ROW,
        user_email={"u1": "alex.doe@example.com"}.get,
        group_name={"g1": "Service Desk"}.get,
    )

    assert record.id == ROW["sys_id"]
    assert record.key == "INC0010023"
    assert record.version == "0000000004"
    assert record.updated == datetime(2024, 5, 1, 9, 3, 10, tzinfo=UTC)
    assert record.created == datetime(2024, 5, 1, 7, 15, 42, tzinfo=UTC)
    assert record.updated_by == "alex.doe"
    assert record.fields["assignment_group"] == "Service Desk"
    assert record.fields["assigned_to"] == "alex.doe@example.com"
    assert record.fields["caller_id"] is None
    assert record.fields["description"] is None
    assert record.fields["hold_reason"] is None
    assert "sys_id" not in record.fields


def test_reference_ids() -> None:
    """reference_ids collects the non-empty user and group sys_ids."""
    assert reference_ids([ROW]) == ({"u1"}, {"g1"})


def test_to_comment_visibility() -> None:
    """`comments` rows are public, `work_notes` rows internal."""
    row = {
        "sys_id": "j1",
        "element": "work_notes",
        "value": "Escalating",
        "sys_created_on": "2024-05-01 09:03:10",
        "sys_created_by": "alex.doe",
    }

    note = to_comment(row)
    comment = to_comment({**row, "element": "comments"})

    assert note.public is False
    assert comment.public is True
    assert note.author == "alex.doe"
    assert note.source_id == "j1"
    assert note.created == datetime(2024, 5, 1, 9, 3, 10, tzinfo=UTC)


def test_to_native_needs_updated() -> None:
    """A row without sys_updated_on raises ValueError, which the connector reports."""
    with pytest.raises(ValueError, match="sys_updated_on"):
        to_native({**ROW, "sys_updated_on": ""}, user_email=str, group_name=str)
