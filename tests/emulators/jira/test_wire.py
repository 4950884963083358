from __future__ import annotations

import base64

import pytest

from tests.emulators.jira.support import START
from tierbridge.emulators.jira.catalog import build_profiles
from tierbridge.emulators.jira.wire import ApiError, jira_time, jsm_date, verify_basic_auth


def _basic(email: str, token: str) -> str:
    return "Basic " + base64.b64encode(f"{email}:{token}".encode()).decode()


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        ("Europe/Berlin", "2024-05-01T09:15:42.117+0200"),
        ("Asia/Kolkata", "2024-05-01T12:45:42.117+0530"),
        ("UTC", "2024-05-01T07:15:42.117+0000"),
    ],
)
def test_jira_time_in_zone(zone: str, expected: str) -> None:
    """Timestamps carry milliseconds and the viewer's offset without a colon."""
    assert jira_time(START, zone) == expected


def test_jsm_date_fields() -> None:
    """The JSM date object has ISO 8601 without milliseconds and epoch milliseconds."""
    value = jsm_date(START, "Europe/Berlin")

    assert value["iso8601"] == "2024-05-01T09:15:42+0200"
    assert value["jira"] == "2024-05-01T09:15:42.117+0200"
    assert value["epochMillis"] == 1714547742117


def test_basic_auth_accepts_token() -> None:
    """A matching e-mail and API token return that user's profile."""
    profiles = build_profiles(["a@example.com"])

    profile = verify_basic_auth(_basic("a@example.com", "t1"), {"a@example.com": "t1"}, profiles)

    assert profile.email == "a@example.com"


@pytest.mark.parametrize(
    "header", [None, "Bearer abc", "Basic !!!", _basic("a@example.com", "wrong")]
)
def test_basic_auth_rejects_bad_header(header: str | None) -> None:
    """Missing, malformed or wrong credentials give 401 with a Jira error body."""
    profiles = build_profiles(["a@example.com"])

    with pytest.raises(ApiError) as caught:
        verify_basic_auth(header, {"a@example.com": "t1"}, profiles)

    assert caught.value.status == 401
    assert bytes(caught.value.to_response().body).startswith(b'{"errorMessages":["Client must')
