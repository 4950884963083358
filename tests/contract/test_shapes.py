"""The shape comparison behind the fidelity check catches the drifts it exists for."""

from __future__ import annotations

from typing import Any

import pytest

from tests.contract.shapes import compare, compare_bodies, string_format

JSON = {"Content-Type": "application/json"}


def check(recorded: Any, emulated: Any, **rules: Any) -> list[str]:
    return compare_bodies(recorded, emulated, **rules)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("2024-05-01 09:03:10", "ServiceNow date-time"),
        ("2024-05-01T11:03:10.554+0200", "ISO date-time with milliseconds and offset"),
        ("2024-05-01T07:15:42Z", "ISO date-time in UTC"),
        ("/Date(1714554190000)/", "WCF date"),
        ("3f2a8c1e-5b7d-4e9f-a1c2-0d9e8f7a6b5c", "GUID"),
        ("6b1f3c2ad74e4a10b8e2f0c9a1d2e3f4", "sys_id"),
        ("500Hs00001XyZaBIAV", "18-character Salesforce id"),
        ("4", "number as text"),
        ("Network", None),
    ],
)
def test_string_formats(text: str, name: str | None) -> None:
    """Each documented string format is recognised; free text has none."""
    assert string_format(text) == name


def test_same_shape_agrees() -> None:
    """Different values in the same shape give no difference."""
    recorded = {"result": [{"sys_id": "6b1f3c2ad74e4a10b8e2f0c9a1d2e3f4", "state": "2"}]}
    emulated = {
        "result": [{"sys_id": "176ea1b164264cd51ea45cd69371a71f", "state": "1", "extra": ""}]
    }

    assert check(recorded, emulated) == []


def test_time_format_drift() -> None:
    """A date-time in another format is reported with the path."""
    problems = check(
        {"updated": "2024-05-01T11:03:10.554+0200"}, {"updated": "2024-05-01T11:03:10.554+02:00"}
    )

    assert len(problems) == 1
    assert problems[0].startswith("$.updated: recorded ISO date-time with milliseconds and offset")


def test_type_drift() -> None:
    """A number sent where the recording has a string is reported."""
    assert check({"state": "2"}, {"state": 2}) == [
        "$.state: recorded a string, emulator sent a number"
    ]


def test_missing_key() -> None:
    """A recorded key the emulator leaves out is reported."""
    assert check({"isLast": False, "issues": []}, {"issues": []}) == ["$.isLast: missing"]


def test_strict_extra_key() -> None:
    """Strict bodies (errors) may not add keys."""
    recorded = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
    emulated = [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID", "fields": []}
    ]

    assert check(recorded, emulated) == []
    assert check(recorded, emulated, strict=True) == ["$[0].fields: not in the recording"]


def test_null_scalar_rule() -> None:
    """A null where a string was recorded is a drift only where the system sends no nulls."""
    assert check({"description": "text"}, {"description": None}) == []
    assert check({"description": "text"}, {"description": None}, nulls=False) == [
        "$.description: null where the recording has a string"
    ]


def test_null_object_allowed() -> None:
    """An object recorded with a value may be null, as an empty reference is."""
    assert check({"assignee": {"accountId": "5f1e"}}, {"assignee": None}, nulls=False) == []


def test_annotation_of_null_optional() -> None:
    """An OData annotation may be left out when its property is null."""
    recorded = {
        "caseorigincode": 2,
        "caseorigincode@OData.Community.Display.V1.FormattedValue": "Email",
    }

    assert check(recorded, {"caseorigincode": None}) == []
    assert check(recorded, {"caseorigincode": 3}) == [
        "$.caseorigincode@OData.Community.Display.V1.FormattedValue: missing"
    ]


def test_rows_must_not_be_empty() -> None:
    """The list of records must have items; other lists may be empty."""
    recorded = {"issues": [{"id": "1", "fields": {"labels": ["vpn"]}}]}

    assert (
        check(
            recorded,
            {"issues": [{"id": "2", "fields": {"labels": []}}]},
            rows=frozenset({"$.issues"}),
        )
        == []
    )
    assert check(recorded, {"issues": []}, rows=frozenset({"$.issues"})) == [
        "$.issues: empty, where the recording has items"
    ]


def test_mixed_list_items() -> None:
    """Each emulator item is compared with the closest recorded item."""
    recorded = [
        {"id": "summary", "schema": {"system": "summary"}},
        {"id": "customfield_10050", "schema": {"custom": "select"}},
    ]
    emulated = [{"id": "customfield_10060", "schema": {"custom": "textfield"}}]

    assert check(recorded, emulated) == []


def test_status_and_headers() -> None:
    """Status, media type, numeric headers and Link rels are compared."""
    problems = compare(
        200,
        {"content-type": "text/html", "X-Total-Count": "many", "Link": '<x>;rel="first"'},
        {"result": []},
        recorded_status=201,
        recorded_headers={
            "Content-Type": "application/json",
            "X-Total-Count": "2",
            "Link": '<x>;rel="next"',
            "Retry-After": "7",
        },
        recorded_body={"result": []},
    )

    assert problems == [
        "status: recorded 201, emulator sent 200",
        "header Content-Type: recorded application/json, emulator sent text/html",
        "header X-Total-Count: recorded a number, emulator sent 'many'",
        "header Link: rels ['next'] missing",
        "header Retry-After: missing",
    ]


def test_empty_body_expected() -> None:
    """A recorded response without a body (204) requires an empty one."""
    assert compare(204, {}, b"", recorded_status=204, recorded_headers={}, recorded_body=None) == []
    assert compare(
        204, JSON, {"id": "1"}, recorded_status=204, recorded_headers={}, recorded_body=None
    ) == ["body: the recording has none, the emulator sent one"]
