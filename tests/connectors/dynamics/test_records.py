from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from tierbridge.connectors.dynamics.records import (
    etag_of,
    format_datetime,
    parse_datetime,
    select_for,
    to_comment,
    to_native,
    version_of,
)

ROW: dict[str, Any] = {
    "@odata.etag": 'W/"4471203"',
    "incidentid": "3f2a8c1e-5b7d-4e9f-a1c2-0d9e8f7a6b5c",
    "ticketnumber": "CAS-01026-K7M2Q9",
    "title": "VPN drops every 10 minutes",
    "description": "",
    "statecode": 0,
    "statuscode": 1,
    "prioritycode": 1,
    "prioritycode@OData.Community.Display.V1.FormattedValue": "High",
    "caseorigincode": None,
    "_customerid_value": "9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
    "customerid_contact": None,
    "customerid_account": {
        "accountid": "9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
        "emailaddress1": "support@example.com",
    },
    "_ownerid_value": "7e6d5c4b-3a29-4180-9f8e-7d6c5b4a3928",
    "_ownerid_value@Microsoft.Dynamics.CRM.lookuplogicalname": "systemuser",
    "owninguser": {
        "systemuserid": "7e6d5c4b-3a29-4180-9f8e-7d6c5b4a3928",
        "internalemailaddress": "alex.doe@example.com",
    },
    "_modifiedby_value": "7e6d5c4b-3a29-4180-9f8e-7d6c5b4a3928",
    "new_externalref": "snow:abc",
    "new_duedate": "2024-05-03",
    "createdon": "2024-05-01T07:15:42Z",
    "modifiedon": "2024-05-01T09:03:10Z",
    "versionnumber": 4471203,
}


def test_to_native() -> None:
    """A case row becomes a NativeRecord with integer choices and readable lookups."""
    record = to_native(ROW, "new_externalref", ["new_duedate"])

    assert record.id == ROW["incidentid"]
    assert record.key == "CAS-01026-K7M2Q9"
    assert record.version == "00000000000004471203"
    assert record.updated == datetime(2024, 5, 1, 9, 3, 10, tzinfo=UTC)
    assert record.created == datetime(2024, 5, 1, 7, 15, 42, tzinfo=UTC)
    assert record.updated_by == ROW["_modifiedby_value"]
    assert record.fields == {
        "title": "VPN drops every 10 minutes",
        "description": None,
        "statecode": 0,
        "statuscode": 1,
        "prioritycode": 1,
        "caseorigincode": None,
        "customerid": "support@example.com",
        "ownerid": "alex.doe@example.com",
        "new_externalref": "snow:abc",
        "new_duedate": date(2024, 5, 3),
    }


def test_team_owner_name() -> None:
    """A team owner reads as the team's formatted name."""
    row = {
        **ROW,
        "owninguser": None,
        "_ownerid_value@Microsoft.Dynamics.CRM.lookuplogicalname": "team",
        "_ownerid_value@OData.Community.Display.V1.FormattedValue": "Outsourced L2",
    }

    assert to_native(row, "new_externalref", []).fields["ownerid"] == "Outsourced L2"


def test_missing_modifiedon() -> None:
    """A row without modifiedon cannot be ordered, so it raises ValueError."""
    with pytest.raises(ValueError, match="modifiedon"):
        to_native({**ROW, "modifiedon": None}, "new_externalref", [])


def test_versions_sort_as_text() -> None:
    """Zero-padded versions sort in number order."""
    assert version_of(999) < version_of(1000)
    assert version_of("4471203") == "00000000000004471203"


def test_datetime_round_trip() -> None:
    """Literals are UTC with Z and no fraction; parsing keeps the instant."""
    moment = datetime(2024, 5, 1, 11, 3, 10, 500000, tzinfo=timezone(timedelta(hours=2)))

    assert format_datetime(moment) == "2024-05-01T09:03:10Z"
    assert parse_datetime("2024-05-01T09:03:10Z") == datetime(2024, 5, 1, 9, 3, 10, tzinfo=UTC)
    assert parse_datetime("") is None


def test_naive_datetime_rejected() -> None:
    """A date-time without a zone is not a Web API value."""
    with pytest.raises(ValueError, match="zone"):
        parse_datetime("2024-05-01T09:03:10")


def test_select_lists_columns_once() -> None:
    """The $select names each column once, correlation and date-only columns included."""
    select = select_for("new_externalref", ["new_duedate", "new_externalref"]).split(",")

    assert len(select) == len(set(select))
    assert {
        "incidentid",
        "versionnumber",
        "_ownerid_value",
        "new_externalref",
        "new_duedate",
    } <= set(select)


def test_etag_or_star() -> None:
    """The ETag of a row, or * when the row has none."""
    assert etag_of(ROW) == 'W/"4471203"'
    assert etag_of({}) == "*"


def test_to_comment_author() -> None:
    """A note's author is the creator's formatted name, else the creator's id."""
    row = {
        "annotationid": "a",
        "notetext": "hi",
        "createdon": "2024-05-01T07:15:42Z",
        "_createdby_value": "u",
        "_createdby_value@OData.Community.Display.V1.FormattedValue": "Alex Doe",
    }

    comment = to_comment(row, public=False, id_column="annotationid", text_column="notetext")
    bare = to_comment(
        {**row, "_createdby_value@OData.Community.Display.V1.FormattedValue": None},
        public=True,
        id_column="annotationid",
        text_column="notetext",
    )

    assert (comment.author, comment.public, comment.body) == ("Alex Doe", False, "hi")
    assert (bare.author, bare.public) == ("u", True)
