"""End-to-end tests: people work in the emulators, the daemon keeps both sides in sync."""

from __future__ import annotations

from typing import Any

from tests.conftest import CORRELATION_FIELD, StackFactory
from tests.e2e.conftest import Daemon, DaemonFactory
from tierbridge.connectors.jira.adf import adf_to_text


def escalate(daemon: Daemon) -> tuple[str, dict[str, Any]]:
    """Open a P1 incident as the L1 agent, wait for the daemon, and return it and its request."""
    incident = daemon.stack.open_incident(impact="1", urgency="1")
    daemon.settle()
    (issue,) = daemon.stack.jsm_issues()
    return str(incident["sys_id"]), issue


class TestEscalation:
    def test_p1_reaches_jsm(self, daemon_on: Daemon) -> None:
        """A P1 incident becomes one JSM request, whose key is stored on the incident."""
        sys_id, issue = escalate(daemon_on)

        stack = daemon_on.stack
        assert issue["fields"][CORRELATION_FIELD] == f"snow:{sys_id}"
        assert stack.l1.get_incident(sys_id)["correlation_id"] == issue["key"]
        assert stack.rt.store.count_actions()["escalated"] == 1
        assert stack.rt.store.list_events(status="dead") == []
        assert stack.rt.store.pending_count() == 0

    def test_p3_stays_at_l1(self, daemon: Daemon) -> None:
        """A P3 incident in the service desk group creates nothing in JSM."""
        daemon.stack.open_incident(impact="2", urgency="2", assignment_group="Service Desk")

        daemon.settle()

        actions = daemon.stack.rt.store.count_actions()
        assert daemon.stack.jsm_issues() == []
        assert "tracked" in actions
        assert "escalated" not in actions


class TestRoundTrip:
    def test_l2_resolution_returns(self, daemon: Daemon) -> None:
        """L2's reply and resolution come back to ServiceNow once, with visibility kept."""
        sys_id, issue = escalate(daemon)
        key = str(issue["key"])
        daemon.stack.l1.add_comment(sys_id, "Customer reports it again.", internal=False)
        daemon.settle()
        daemon.stack.l2.transition_to(key, "In Progress")
        daemon.stack.l2.add_comment(key, "Fixed the VPN profile.", public=True)
        daemon.stack.l2.transition_to(key, "Resolved", resolution="Done")

        daemon.settle()

        incident = daemon.stack.l1.get_incident(sys_id)
        journal = daemon.stack.l1.list_journal(sys_id)
        replies = [e["element"] for e in journal if "Fixed the VPN profile." in e["value"]]
        comments = daemon.stack.l2.get_issue(key)["fields"]["comment"]["comments"]
        copies = [
            c for c in comments if "Customer reports it again." in (adf_to_text(c["body"]) or "")
        ]
        assert incident["state"] == "6"
        assert incident["close_notes"] != ""
        assert replies == ["comments"]
        assert len(copies) == 1
        assert copies[0]["jsdPublic"] is True
        assert daemon.stack.rt.store.list_events(status="dead") == []


class TestPollSafetyNet:
    def test_poll_finds_missed_change(
        self, make_stack: StackFactory, start_daemon: DaemonFactory
    ) -> None:
        """An incident whose webhook never arrived is found by the first poll and escalated."""
        stack = make_stack()
        incident = stack.open_incident(impact="1", urgency="1")

        daemon = start_daemon(stack, subscribe=False)
        daemon.wait_for_first_poll("snow")
        daemon.settle()

        (issue,) = stack.jsm_issues()
        assert issue["fields"][CORRELATION_FIELD] == f"snow:{incident['sys_id']}"
