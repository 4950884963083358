from __future__ import annotations

import pytest
from fastapi import HTTPException

from tierbridge.emulators.servicenow.rules import apply_incident_rules, derive_priority

NOW = "2024-05-01 07:15:42"


@pytest.mark.parametrize(
    ("impact", "urgency", "priority"),
    [
        ("1", "1", "1"), ("1", "2", "2"), ("1", "3", "3"),
        ("2", "1", "2"), ("2", "2", "3"), ("2", "3", "4"),
        ("3", "1", "3"), ("3", "2", "4"), ("3", "3", "5"),
    ],
)  # fmt: skip
def test_priority_matrix(impact: str, urgency: str, priority: str) -> None:
    """Priority follows the base system's impact x urgency lookup."""
    assert derive_priority(impact, urgency) == priority


def test_priority_overrides_written_value() -> None:
    """A written priority is replaced by the derived one."""
    record = {"impact": "1", "urgency": "1", "priority": "5", "state": "1"}

    apply_incident_rules(record, None, user_id="u", now=NOW)

    assert record["priority"] == "1"


def test_resolve_needs_close_fields() -> None:
    """Resolving without close_code and close_notes is a 403 data-policy error."""
    record = {"impact": "3", "urgency": "3", "state": "6", "close_code": "Solution provided"}

    with pytest.raises(HTTPException) as caught:
        apply_incident_rules(record, "2", user_id="u", now=NOW)

    assert caught.value.status_code == 403
    body = caught.value.detail
    assert isinstance(body, dict)
    detail = body["error"]["detail"]
    assert "Resolution notes" in detail
    assert "Resolution code" not in detail


def test_resolve_sets_stamps() -> None:
    """Resolving sets resolved_at/by, clears active and mirrors incident_state."""
    record = {"state": "6", "close_code": "Solution provided", "close_notes": "done"}

    apply_incident_rules(record, "2", user_id="u1", now=NOW)

    assert record["resolved_at"] == NOW
    assert record["resolved_by"] == "u1"
    assert record["active"] == "false"
    assert record["incident_state"] == "6"


def test_close_sets_closed_stamps() -> None:
    """Closing sets closed_at/by."""
    record = {"state": "7", "close_code": "x", "close_notes": "y", "resolved_at": "earlier"}

    apply_incident_rules(record, "6", user_id="u1", now=NOW)

    assert record["closed_at"] == NOW
    assert record["resolved_at"] == "earlier"


def test_reopen_clears_resolution() -> None:
    """Moving back from Resolved to In Progress clears resolved_at and counts a reopen."""
    record = {"state": "2", "resolved_at": NOW, "resolved_by": "u1", "reopen_count": "0"}

    apply_incident_rules(record, "6", user_id="u1", now=NOW)

    assert record["resolved_at"] == ""
    assert record["reopen_count"] == "1"
    assert record["active"] == "true"
