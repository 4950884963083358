"""Regression tests for the lost updates and regressions the history checker found.

Each test replays, by hand, the smallest history of one failing seed of
`python -m bench.history`, on both emulators through `handle_event`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from tests.conftest import Stack
from tests.core.engine.support import actions
from tierbridge.core.connector import NativeRecord
from tierbridge.core.engine.writes import create_counterpart
from tierbridge.core.errors import RejectedError
from tierbridge.core.model import Tier


def escalated(stack: Stack) -> tuple[str, dict[str, Any]]:
    """Open and escalate a P1 incident, and return its sys_id and its JSM issue."""
    incident = stack.open_incident(impact="1", urgency="1")
    stack.process("snow", incident["sys_id"])
    (issue,) = stack.jsm_issues()
    return incident["sys_id"], issue


def jsm_status(stack: Stack, key: str) -> str:
    return str(stack.l2.get_issue(key)["fields"]["status"]["name"])


def test_target_change_survives_write(stack: Stack) -> None:
    """A JSM change not yet synced still reaches ServiceNow after a write to that issue."""
    sys_id, issue = escalated(stack)
    stack.l2.transition_to(issue["key"], "In Progress")
    stack.l1.update_incident(sys_id, short_description="VPN drops every minute")

    stack.process("snow", sys_id)
    stack.process("jsm", issue["id"])

    assert stack.l1.get_incident(sys_id)["state"] == "2"


def test_conflict_found_without_event(stack: Stack) -> None:
    """A newer JSM status whose webhook never came is kept, and logged as a conflict."""
    sys_id, issue = escalated(stack)
    stack.l1.update_incident(sys_id, state="2")
    stack.l2.transition_to(issue["key"], "Waiting for customer")

    row = stack.process("snow", sys_id)

    assert "conflict" in actions(stack.rt, row.id)
    assert jsm_status(stack, issue["key"]) == "Waiting for customer"


def test_reopened_close_code_not_copied(stack: Stack) -> None:
    """The close code a reopened incident keeps is not written to its new JSM issue."""
    incident = stack.open_incident()
    sys_id = incident["sys_id"]
    stack.l1.update_incident(
        sys_id, state="6", close_code="Duplicate", close_notes="Same as INC0000001."
    )
    stack.l1.update_incident(sys_id, state="2", impact="1", urgency="1")

    row = stack.process("snow", sys_id)

    assert row.status == "done"
    (issue,) = stack.jsm_issues()
    assert issue["fields"]["status"]["name"] == "In Progress"
    assert issue["fields"]["resolution"] is None


def test_rejected_write_keeps_comments(stack: Stack) -> None:
    """A status JSM refuses parks the event, but the comment of that change is copied."""
    sys_id, issue = escalated(stack)
    stack.l1.update_incident(sys_id, state="7")
    stack.l1.add_comment(sys_id, "Closing: the caller confirmed the fix.", internal=False)

    row = stack.process("snow", sys_id)

    assert row.status == "dead"
    comments = stack.l2.get_issue(issue["key"])["fields"]["comment"]["comments"]
    assert len(comments) == 1


def test_unconfirmed_create_adopted(stack: Stack) -> None:
    """A JSM issue created before a crash is linked and updated, though the rule no longer holds."""
    incident = stack.open_incident(impact="1", urgency="1", short_description="Old title")
    sys_id = incident["sys_id"]
    ref = stack.rt.store.create_link("snow", sys_id, incident["number"], "L1")
    key = f"snow:{sys_id}"
    stack.rt.store.reserve_write(ref.link_id, "jsm", "create", key, stack.rt.clock())
    stack.rt.connectors["jsm"].create_record({"summary": "Old title"}, key)
    stack.l1.update_incident(sys_id, short_description="New title", impact="3", urgency="3")

    row = stack.process("snow", sys_id)

    assert "adopted" in actions(stack.rt, row.id)
    (issue,) = stack.jsm_issues()
    assert issue["fields"]["summary"] == "New title"
    assert stack.rt.store.find_ref("jsm", issue["id"]) is not None


def test_canceled_counterpart_resolves(stack: Stack) -> None:
    """An incident resolved after its JSM issue was canceled resolves that issue too."""
    sys_id, issue = escalated(stack)
    stack.l2.transition_to(issue["key"], "Canceled")
    stack.process("jsm", issue["id"])
    stack.l1.update_incident(
        sys_id, state="6", close_code="Duplicate", close_notes="Same as INC0000001."
    )

    row = stack.process("snow", sys_id)

    assert row.status == "done"
    fields = stack.l2.get_issue(issue["key"])["fields"]
    assert fields["status"]["name"] == "Resolved"
    assert fields["resolution"]["name"] == "Duplicate"


def test_kept_value_written_back(stack: Stack) -> None:
    """A JSM status that wins a conflict reaches ServiceNow, though JSM later changes it back."""
    sys_id, issue = escalated(stack)
    stack.l1.update_incident(sys_id, state="2")
    stack.process("snow", sys_id)
    stack.l1.update_incident(sys_id, state="3")
    stack.l2.transition_to(issue["key"], "Waiting for support")

    stack.process("snow", sys_id)
    stack.l2.transition_to(issue["key"], "In Progress")
    stack.process("jsm", issue["id"])

    assert stack.l1.get_incident(sys_id)["state"] == "2"
    assert jsm_status(stack, issue["key"]) == "In Progress"


def test_adopted_status_not_copied_back(stack: Stack) -> None:
    """An adopted JSM issue's initial status does not overwrite the incident's status."""
    incident = stack.open_incident(impact="1", urgency="1", state="2")
    sys_id = incident["sys_id"]
    ref = stack.rt.store.create_link("snow", sys_id, incident["number"], "L1")
    key = f"snow:{sys_id}"
    stack.rt.store.reserve_write(ref.link_id, "jsm", "create", key, stack.rt.clock())
    created = stack.rt.connectors["jsm"].create_record({"summary": "VPN drops"}, key)

    stack.process("snow", sys_id)
    stack.process("jsm", created.id)

    assert stack.l1.get_incident(sys_id)["state"] == "2"


def test_create_sets_link_baseline(stack: Stack) -> None:
    """Changes after a create reach the counterpart though the pass crashed after it."""
    incident = stack.open_incident(state="8")
    sys_id = incident["sys_id"]
    stack.process("snow", sys_id)
    stack.l1.update_incident(sys_id, state="2", impact="1", urgency="1")
    source = stack.rt.store.find_ref("snow", sys_id)
    assert source is not None
    ticket = stack.rt.mappers["snow"].to_ticket(stack.rt.connectors["snow"].get_record(sys_id))
    create_counterpart(stack.rt, ticket, source, Tier.L2)
    stack.l1.update_incident(sys_id, state="3")
    stack.l1.update_incident(sys_id, state="8")

    stack.process("snow", sys_id)

    (issue,) = stack.jsm_issues()
    assert issue["fields"]["status"]["name"] == "Canceled"


def test_write_without_snapshot_readable(stack: Stack) -> None:
    """A write to a linked ticket that had no snapshot leaves one its next event can read."""
    incident = stack.open_incident(short_description="Printer offline")
    sys_id = incident["sys_id"]
    created = stack.rt.connectors["jsm"].create_record({"summary": "Printer offline"}, "manual")
    ref = stack.rt.store.create_link("snow", sys_id, incident["number"], "L1")
    stack.rt.store.add_ref(ref.link_id, "jsm", created.id, created.key, "L2")
    stack.l1.update_incident(sys_id, short_description="Printer offline on floor 2")
    stack.process("snow", sys_id)
    stack.l1.update_incident(sys_id, short_description="Printer offline on floor 3")

    row = stack.process("snow", sys_id)

    assert row.status == "done"
    assert stack.jsm_issues()[0]["fields"]["summary"] == "Printer offline on floor 3"


def test_refused_cross_reference_skipped(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    """A source that refuses the counterpart's key (a closed case) still syncs the rest."""
    connector = stack.rt.connectors["snow"]
    update = connector.update_record

    def reject_key(ticket_id: str, fields: Mapping[str, Any]) -> NativeRecord:
        if "correlation_id" in fields:
            raise RejectedError("record is read-only", connector="snow", operation="update")
        return update(ticket_id, fields)

    monkeypatch.setattr(connector, "update_record", reject_key)
    incident = stack.open_incident(impact="1", urgency="1")
    stack.l1.add_comment(incident["sys_id"], "Still down.", internal=False)

    row = stack.process("snow", incident["sys_id"])

    assert row.status == "done"
    (issue,) = stack.jsm_issues()
    assert "cross_reference_refused" in actions(stack.rt)
    comments = stack.l2.get_issue(issue["key"])["fields"]["comment"]["comments"]
    assert any("Still down." in str(comment["body"]) for comment in comments)


def resolved_in_jsm(stack: Stack, resolution: str) -> tuple[str, dict[str, Any]]:
    """Escalate an incident, resolve its JSM issue with `resolution`, and sync that back."""
    sys_id, issue = escalated(stack)
    stack.l2.transition_to(issue["key"], "Resolved", resolution=resolution)
    stack.process("jsm", issue["id"])
    assert stack.l1.get_incident(sys_id)["close_code"] == resolution
    return sys_id, issue


def test_new_resolution_reaches_resolved_incident(stack: Stack) -> None:
    """A JSM issue reopened and resolved again with another resolution, seen only after both
    moves, changes the close code of the incident that stayed resolved."""
    sys_id, issue = resolved_in_jsm(stack, "Duplicate")
    stack.l2.transition_to(issue["key"], "In Progress")
    stack.l2.transition_to(issue["key"], "Resolved", resolution="Done")

    row = stack.process("jsm", issue["id"])

    assert row.status == "done"
    incident = stack.l1.get_incident(sys_id)
    assert (incident["state"], incident["close_code"]) == ("6", "Done")


def test_rejected_lone_resolution_logged(stack: Stack) -> None:
    """A close code changed on a resolved incident, which JSM cannot take without a
    transition, is logged as skipped, and the pass still ends done."""
    sys_id, issue = resolved_in_jsm(stack, "Done")
    stack.l1.update_incident(sys_id, close_code="Duplicate")

    row = stack.process("snow", sys_id)

    assert row.status == "done"
    assert "resolution_skipped" in actions(stack.rt, row.id)
    fields = stack.l2.get_issue(issue["key"])["fields"]
    assert fields["resolution"]["name"] == "Done"
    assert stack.process("snow", sys_id).status == "done"


def test_status_row_lists_resolution(stack: Stack) -> None:
    """The log row of a resolving write names the resolution fields written with the status."""
    sys_id, issue = escalated(stack)
    stack.l2.transition_to(issue["key"], "Resolved", resolution="Done")

    row = stack.process("jsm", issue["id"])

    updated = [
        entry
        for entry in stack.rt.store.sync_log(limit=100)
        if entry.event_id == row.id and entry.action == "updated"
    ]
    assert [entry.fields for entry in updated] == [
        ["resolution_code", "resolution_notes", "status"]
    ]
    assert stack.l1.get_incident(sys_id)["close_code"] == "Done"
