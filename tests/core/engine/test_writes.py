"""Tests for create-once escalation and confirmed field writes, through `handle_event`."""

from __future__ import annotations

from typing import Any

from tests.conftest import CORRELATION_FIELD, Stack
from tests.core.engine.support import actions


def escalated(stack: Stack) -> tuple[str, dict[str, Any]]:
    """Open and escalate a P1 incident, and return its sys_id and its JSM issue."""
    incident = stack.open_incident(impact="1", urgency="1")
    stack.process("snow", incident["sys_id"])
    (issue,) = stack.jsm_issues()
    return incident["sys_id"], issue


def crash_after_create(stack: Stack, incident: dict[str, Any]) -> str:
    """Repeat what an attempt that died after the JSM create did, and return the request's key.

    It linked the incident, reserved the correlation key and created the request, but never
    recorded the write as done.
    """
    sys_id = incident["sys_id"]
    ref = stack.rt.store.create_link("snow", sys_id, incident["number"], "L1")
    correlation = f"snow:{sys_id}"
    stack.rt.store.reserve_write(ref.link_id, "jsm", "create", correlation, stack.rt.clock())
    record = stack.rt.connectors["jsm"].create_record({"summary": "VPN drops"}, correlation)
    assert record.key is not None
    return record.key


class TestCreateOnce:
    def test_crash_after_create_adopts(self, stack: Stack) -> None:
        """A retry after a crash between create and confirm adopts the request it made."""
        incident = stack.open_incident(impact="1", urgency="1")
        key = crash_after_create(stack, incident)

        event = stack.process("snow", incident["sys_id"])

        issues = stack.jsm_issues()
        assert event.status == "done"
        assert [issue["key"] for issue in issues] == [key]
        assert stack.l1.get_incident(incident["sys_id"])["correlation_id"] == key
        write = stack.rt.store.get_write(f"snow:{incident['sys_id']}")
        assert write is not None
        assert write.status == "done"

    def test_orphan_event_first_adopts(self, stack: Stack) -> None:
        """The orphan request's own event links it, and the incident's event creates nothing."""
        incident = stack.open_incident(impact="1", urgency="1")
        key = crash_after_create(stack, incident)
        (issue,) = stack.jsm_issues()

        adopted = stack.process("jsm", issue["id"])
        stack.process("snow", incident["sys_id"])

        assert actions(stack.rt, adopted.id)[0] == "adopted"
        assert [found["key"] for found in stack.jsm_issues()] == [key]
        assert stack.l1.get_incident(incident["sys_id"])["correlation_id"] == key

    def test_reserved_but_not_created(self, stack: Stack) -> None:
        """A reservation whose create never reached JSM leads to exactly one request."""
        incident = stack.open_incident(impact="1", urgency="1")
        ref = stack.rt.store.create_link("snow", incident["sys_id"], incident["number"], "L1")
        correlation = f"snow:{incident['sys_id']}"
        stack.rt.store.reserve_write(ref.link_id, "jsm", "create", correlation, stack.rt.clock())

        stack.process("snow", incident["sys_id"])
        stack.process("snow", incident["sys_id"])

        (issue,) = stack.jsm_issues()
        assert issue["fields"][CORRELATION_FIELD] == correlation


class TestResolution:
    def test_jira_resolve_resolves_incident(self, stack: Stack) -> None:
        """Resolving the JSM request sets the incident to state 6 with close notes and code."""
        sys_id, issue = escalated(stack)
        stack.l2.transition_to(issue["key"], "In Progress")
        stack.l2.transition_to(issue["key"], "Resolved", resolution="Done")

        event = stack.process("jsm", issue["id"])

        incident = stack.l1.get_incident(sys_id)
        assert event.status == "done"
        assert incident["state"] == "6"
        assert incident["close_notes"].strip() != ""
        assert incident["close_code"] == "Done"

    def test_l1_edit_reaches_jsm(self, stack: Stack) -> None:
        """A title change on the incident is written to the JSM summary and read back."""
        sys_id, issue = escalated(stack)
        stack.l1.update_incident(sys_id, short_description="VPN down for the whole floor")

        event = stack.process("snow", sys_id)

        assert "updated" in actions(stack.rt, event.id)
        summary = stack.l2.get_issue(issue["key"])["fields"]["summary"]
        assert summary == "VPN down for the whole floor"

    def test_l2_title_not_copied_down(self, stack: Stack) -> None:
        """A summary edit in JSM is not written to the incident, which owns the title."""
        sys_id, issue = escalated(stack)
        stack.l2.update_fields(issue["key"], summary="Renamed by L2")

        stack.process("jsm", issue["id"])

        assert stack.l1.get_incident(sys_id)["short_description"] == "VPN drops every hour"
