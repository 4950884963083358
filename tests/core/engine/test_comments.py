"""Tests for comment copying between ServiceNow and JSM, through `handle_event`."""

from __future__ import annotations

from typing import Any

from tests.conftest import Stack
from tests.core.engine.support import writes_during
from tierbridge.connectors.jira.adf import adf_to_text


def escalated(stack: Stack) -> tuple[str, dict[str, Any]]:
    """Open and escalate a P1 incident, and return its sys_id and its JSM issue."""
    incident = stack.open_incident(impact="1", urgency="1")
    stack.process("snow", incident["sys_id"])
    (issue,) = stack.jsm_issues()
    return incident["sys_id"], issue


def jsm_comments(stack: Stack, key: str) -> list[tuple[str, bool]]:
    """Return each JSM comment's text and whether it is public (visible to the customer)."""
    comments = stack.l2.get_issue(key)["fields"]["comment"]["comments"]
    return [(adf_to_text(item["body"]) or "", bool(item["jsdPublic"])) for item in comments]


def journal(stack: Stack, sys_id: str) -> list[tuple[str, str]]:
    """Return each ServiceNow journal entry's element and text."""
    return [(entry["element"], entry["value"]) for entry in stack.l1.list_journal(sys_id)]


class TestL1ToL2:
    def test_work_note_becomes_internal(self, stack: Stack) -> None:
        """A work note is copied to JSM as an internal comment, once."""
        sys_id, issue = escalated(stack)
        stack.l1.add_comment(sys_id, "Checked the VPN concentrator logs.", internal=True)

        stack.process("snow", sys_id)
        stack.process("snow", sys_id)

        copies = [c for c in jsm_comments(stack, issue["key"]) if "concentrator" in c[0]]
        assert len(copies) == 1
        assert copies[0][1] is False

    def test_comment_becomes_public(self, stack: Stack) -> None:
        """An additional comment is copied to JSM as a public comment, once."""
        sys_id, issue = escalated(stack)
        stack.l1.add_comment(sys_id, "Please try the new client.", internal=False)

        stack.process("snow", sys_id)
        stack.process("snow", sys_id)

        copies = [c for c in jsm_comments(stack, issue["key"]) if "new client" in c[0]]
        assert len(copies) == 1
        assert copies[0][1] is True

    def test_copy_names_author_and_source(self, stack: Stack) -> None:
        """A copy starts with a line naming the author and the source ticket."""
        sys_id, issue = escalated(stack)
        stack.l1.add_comment(sys_id, "Rebooted the router.", internal=True)

        stack.process("snow", sys_id)

        (copy,) = [c for c in jsm_comments(stack, issue["key"]) if "Rebooted" in c[0]]
        first_line = copy[0].splitlines()[0]
        assert "agent.l1" in first_line
        assert "INC" in first_line


class TestL2ToL1:
    def test_internal_becomes_work_note(self, stack: Stack) -> None:
        """A JSM internal comment is copied to ServiceNow as a work note, once."""
        sys_id, issue = escalated(stack)
        stack.l2.add_comment(issue["key"], "Reproduced on the bench.", public=False)

        stack.process("jsm", issue["id"])
        stack.process("jsm", issue["id"])

        copies = [entry for entry in journal(stack, sys_id) if "bench" in entry[1]]
        assert [element for element, _ in copies] == ["work_notes"]

    def test_public_becomes_comment(self, stack: Stack) -> None:
        """A JSM public reply is copied to ServiceNow as an additional comment, once."""
        sys_id, issue = escalated(stack)
        stack.l2.add_comment(issue["key"], "We are on it.", public=True)

        stack.process("jsm", issue["id"])
        stack.process("jsm", issue["id"])

        copies = [entry for entry in journal(stack, sys_id) if "We are on it." in entry[1]]
        assert [element for element, _ in copies] == ["comments"]


class TestNoLoops:
    def test_copies_not_copied_back(self, stack: Stack) -> None:
        """Handling both sides after a copy writes no comment in either direction."""
        sys_id, issue = escalated(stack)
        stack.l1.add_comment(sys_id, "Note from L1.", internal=True)
        stack.l2.add_comment(issue["key"], "Reply from L2.", public=True)
        stack.process("snow", sys_id)
        stack.process("jsm", issue["id"])

        later = writes_during(
            lambda: (stack.process("snow", sys_id), stack.process("jsm", issue["id"]))
        )

        assert later == []
        assert len([c for c in jsm_comments(stack, issue["key"]) if "Note from L1." in c[0]]) == 1
        assert len([c for c in jsm_comments(stack, issue["key"]) if "Reply from L2." in c[0]]) == 1
        assert len([e for e in journal(stack, sys_id) if "Reply from L2." in e[1]]) == 1
        assert len([e for e in journal(stack, sys_id) if "Note from L1." in e[1]]) == 1
