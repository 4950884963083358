from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi import HTTPException

from tierbridge.emulators.dynamics.odata import Comparison, matches, parse_filter, parse_select
from tierbridge.emulators.dynamics.schema import TABLES
from tierbridge.emulators.dynamics.values import Ref

INCIDENT = TABLES["incident"]
ROW = {
    "incidentid": "3f2a8c1e-5b7d-4e9f-a1c2-0d9e8f7a6b5c",
    "title": "VPN drops",
    "statecode": 0,
    "prioritycode": 1,
    "isescalated": False,
    "modifiedon": datetime(2024, 5, 1, 9, 3, 10, tzinfo=UTC),
    "customerid": Ref("account", "9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"),
    "new_externalref": None,
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("statecode eq 0", True),
        ("statecode ne 0", False),
        ("prioritycode lt 2 and statecode eq 0", True),
        ("prioritycode gt 1 or title eq 'vpn drops'", True),
        ("not (statecode eq 0)", False),
        ("contains(title,'DROPS')", True),
        ("startswith(title,'VPN') and endswith(title,'x')", False),
        ("modifiedon ge 2024-05-01T09:03:10Z", True),
        ("modifiedon gt 2024-05-01T11:03:10+02:00", False),
        ("_customerid_value eq 9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", True),
        ("new_externalref eq null", True),
        ("isescalated eq false", True),
        ("title eq 'it''s'", False),
    ],
)
def test_filter_cases(text: str, expected: bool) -> None:
    """The $filter subset evaluates comparisons, functions and logic as OData does."""
    assert matches(parse_filter(INCIDENT, text), ROW) is expected


@pytest.mark.parametrize(
    "text",
    [
        "title eq VPN",
        "statecode eq '0'",
        "_customerid_value eq '9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d'",
        "customerid eq null",
        "statecode eq",
        "statecode is 0",
        "(statecode eq 0",
        "contains(statecode,'0')",
    ],
)
def test_filter_rejected(text: str) -> None:
    """Malformed terms and literals of the wrong type are 400s."""
    with pytest.raises(HTTPException) as caught:
        parse_filter(INCIDENT, text)

    assert caught.value.status_code == 400


def test_filter_quote_escape() -> None:
    """Two quotes inside a literal stand for one."""
    parsed = parse_filter(INCIDENT, "title eq 'it''s'")

    assert parsed == Comparison("title", "eq", "it's")


def test_select_lookup_needs_value_name() -> None:
    """A lookup is selected as _<name>_value; the bare name is a 400."""
    assert parse_select(INCIDENT, "title,_customerid_value") == ["title", "_customerid_value"]
    with pytest.raises(HTTPException):
        parse_select(INCIDENT, "customerid")
