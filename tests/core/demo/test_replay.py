"""Tests for `actions_for`: logged incident updates as the L1 agent's REST calls."""

from __future__ import annotations

import pytest

from tests.core.demo.support import logged
from tierbridge.core.demo.replay import actions_for


class TestCreate:
    def test_first_update_creates(self) -> None:
        """The first logged update becomes a create with every field filled."""
        action = actions_for(logged(assigned_to="Resolver 12"), None)

        assert action.create is True
        assert action.work_notes == []
        assert action.comments == []
        assert action.fields == {
            "short_description": "Symptom 72 at Location 143",
            "description": "Opened by Caller 2403 via Phone. Category 55 / Subcategory 170.",
            "impact": "2",
            "urgency": "2",
            "category": "Category 55",
            "subcategory": "Subcategory 170",
            "assignment_group": "Group 56",
            "assigned_to": "resolver.12@example.com",
            "caller_id": "caller.2403@example.com",
            "state": "1",
            "hold_reason": "",
        }

    def test_missing_values_described(self) -> None:
        """Values the log marks missing become readable placeholders or empty fields."""
        event = logged(
            symptom=None, location=None, caller=None, category=None, assignment_group=None
        )

        fields = actions_for(event, None).fields

        assert fields["short_description"] == "Incident at an unknown location"
        assert fields["description"].startswith("Opened by an unknown caller via Phone.")
        assert fields["category"] == ""
        assert fields["assignment_group"] == ""
        assert fields["caller_id"] == ""


class TestStates:
    @pytest.mark.parametrize(
        ("logged_state", "state", "hold_reason"),
        [
            ("New", "1", ""),
            ("Active", "2", ""),
            ("Awaiting User Info", "3", "1"),
            ("Awaiting Problem", "3", "3"),
            ("Awaiting Vendor", "3", "4"),
            ("Awaiting Evidence", "3", "1"),
        ],
    )
    def test_state_and_hold_reason(self, logged_state: str, state: str, hold_reason: str) -> None:
        """Log states map to ServiceNow state codes, with a hold reason for On Hold."""
        fields = actions_for(logged(state=logged_state), None).fields

        assert fields["state"] == state
        assert fields["hold_reason"] == hold_reason

    @pytest.mark.parametrize(("logged_state", "state"), [("Resolved", "6"), ("Closed", "7")])
    def test_resolution_fields(self, logged_state: str, state: str) -> None:
        """A resolved or closed update carries close code and notes, as the data policy needs."""
        fields = actions_for(logged(state=logged_state), None).fields

        assert fields["state"] == state
        assert fields["close_code"] == "code 5"
        assert fields["close_notes"] == "Resolved by Resolved by 149."

    def test_unknown_state_not_written(self) -> None:
        """A state the map does not know (-100, deleted) writes no state at all."""
        fields = actions_for(logged(state="-100"), None).fields

        assert "state" not in fields
        assert "hold_reason" not in fields


class TestUpdates:
    def test_only_changed_fields(self) -> None:
        """A later update writes only the fields that differ from the previous one."""
        before = logged(step=0)
        after = logged(step=1, state="Active", urgency="1")

        action = actions_for(after, before)

        assert action.create is False
        assert action.fields == {"state": "2", "urgency": "1"}

    def test_reassignment_work_note(self) -> None:
        """A group change adds one work note naming the new and the old group."""
        before = logged(step=0, assignment_group="Group 56")
        after = logged(step=1, assignment_group="Group 39")

        action = actions_for(after, before)

        assert action.fields == {"assignment_group": "Group 39"}
        assert action.work_notes == ["Reassigned to Group 39 (reassignment from Group 56)."]
        assert action.comments == []

    def test_unassigning_no_note(self) -> None:
        """Clearing the group writes the empty group but adds no work note."""
        before = logged(step=0, assignment_group="Group 56")
        after = logged(step=1, assignment_group=None)

        action = actions_for(after, before)

        assert action.fields == {"assignment_group": ""}
        assert action.work_notes == []

    def test_awaiting_user_comment(self) -> None:
        """Entering Awaiting User Info adds one customer-visible comment, once."""
        before = logged(step=0, state="Active")
        waiting = logged(step=1, state="Awaiting User Info")
        still = logged(step=2, state="Awaiting User Info", urgency="1")

        first = actions_for(waiting, before)
        second = actions_for(still, waiting)

        assert len(first.comments) == 1
        assert "more information" in first.comments[0]
        assert second.comments == []

    def test_no_change_no_action(self) -> None:
        """An update that changes nothing the agent writes produces an empty action."""
        before = logged(step=0)
        after = logged(step=1, closed_code="code 9")

        action = actions_for(after, before)

        assert action.fields == {}
        assert action.work_notes == []
        assert action.comments == []
