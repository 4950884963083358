"""Tests for following edits of copied comments, through `handle_event` and the Jira connector."""

from __future__ import annotations

import json
from typing import Any

import pytest
import responses

from tests.conftest import Stack
from tests.core.engine.support import actions
from tierbridge.connectors.jira.adf import text_to_adf
from tierbridge.connectors.jira.connector import JiraConnector
from tierbridge.core.engine.edits import body_hash
from tierbridge.core.errors import RejectedError


def escalated(stack: Stack) -> tuple[str, dict[str, Any]]:
    """Open and escalate a P1 incident, and return its sys_id and its JSM issue."""
    incident = stack.open_incident(impact="1", urgency="1")
    stack.process("snow", incident["sys_id"])
    (issue,) = stack.jsm_issues()
    return incident["sys_id"], issue


def edit_jira_comment(stack: Stack, issue_id: str, comment_id: str, text: str) -> None:
    """Change a comment's body in the JSM emulator, as an agent's edit in Jira does."""
    state = stack.emulators.jira.state
    with state.lock:
        issue = state.find(issue_id)
        assert issue is not None
        stored = next(item for item in issue.comments if str(item.id) == comment_id)
        stored.body = text_to_adf(text)
        stored.updated = issue.updated = state.now()


def journal_texts(stack: Stack, sys_id: str) -> list[tuple[str, str]]:
    """Return each ServiceNow journal entry's element and text."""
    return [(entry["element"], entry["value"]) for entry in stack.l1.list_journal(sys_id)]


def copied_comment(stack: Stack, text: str, *, public: bool) -> tuple[str, dict[str, Any], str]:
    """Escalate an incident, post a JSM comment, copy it; return sys_id, issue and comment id."""
    sys_id, issue = escalated(stack)
    posted = stack.l2.add_comment(issue["key"], text, public=public)
    stack.process("jsm", issue["id"])
    return sys_id, issue, str(posted["id"])


class TestJiraOriginEdited:
    def test_edit_posts_edited_entry(self, stack: Stack) -> None:
        """An edited JSM comment reaches ServiceNow as a new entry starting with "Edited:"."""
        sys_id, issue, comment_id = copied_comment(stack, "Restart the VPN client.", public=True)
        edit_jira_comment(stack, issue["id"], comment_id, "Reinstall the VPN client.")

        stack.process("jsm", issue["id"])

        edits = [entry for entry in journal_texts(stack, sys_id) if "Reinstall" in entry[1]]
        assert len(edits) == 1
        assert edits[0][1].startswith("Edited: [")
        assert edits[0][0] == "comments"

    def test_edited_note_stays_internal(self, stack: Stack) -> None:
        """The edit of an internal note is posted as a work note, never as a public comment."""
        sys_id, issue, comment_id = copied_comment(stack, "Router firmware 1.2.", public=False)
        edit_jira_comment(stack, issue["id"], comment_id, "Router firmware 1.3.")

        stack.process("jsm", issue["id"])

        edits = [entry for entry in journal_texts(stack, sys_id) if "1.3" in entry[1]]
        assert [element for element, _ in edits] == ["work_notes"]

    def test_edit_copied_once(self, stack: Stack) -> None:
        """Handling the ticket again after an edit posts nothing more."""
        sys_id, issue, comment_id = copied_comment(stack, "Check the proxy.", public=True)
        edit_jira_comment(stack, issue["id"], comment_id, "Check the proxy and DNS.")

        stack.process("jsm", issue["id"])
        stack.process("jsm", issue["id"])

        edits = [entry for entry in journal_texts(stack, sys_id) if "and DNS" in entry[1]]
        assert len(edits) == 1

    def test_edit_logged(self, stack: Stack) -> None:
        """The sync log records the edit as `comment_edited`."""
        _sys_id, issue, comment_id = copied_comment(stack, "First answer.", public=True)
        edit_jira_comment(stack, issue["id"], comment_id, "Second answer.")

        row = stack.process("jsm", issue["id"])

        assert "comment_edited" in actions(stack.rt, row.id)

    def test_edited_entry_not_copied_back(self, stack: Stack) -> None:
        """The "Edited:" entry in ServiceNow is never copied back to JSM."""
        sys_id, issue, comment_id = copied_comment(stack, "Try safe mode.", public=True)
        edit_jira_comment(stack, issue["id"], comment_id, "Try safe mode first.")
        stack.process("jsm", issue["id"])

        stack.process("snow", sys_id)

        comments = stack.l2.get_issue(issue["key"])["fields"]["comment"]["comments"]
        assert len(comments) == 1

    def test_unchanged_body_posts_nothing(self, stack: Stack) -> None:
        """A comment whose body is as copied causes no new entry."""
        sys_id, issue, _comment_id = copied_comment(stack, "Working on it.", public=True)
        before = len(journal_texts(stack, sys_id))

        stack.process("jsm", issue["id"])

        assert len(journal_texts(stack, sys_id)) == before


class TestHashes:
    def test_origin_hash_recorded(self, stack: Stack) -> None:
        """Copying a comment stores the hash of its body on the origin's map row."""
        _sys_id, _issue, comment_id = copied_comment(stack, "Hash me.", public=True)

        entry = stack.rt.store.find_comment("jsm", comment_id)

        assert entry is not None
        assert entry.body_hash == body_hash("Hash me.")

    def test_row_without_hash_adopts_body(self, stack: Stack) -> None:
        """A map row from before hashes were kept takes the current body without posting."""
        sys_id, issue = escalated(stack)
        posted = stack.l2.add_comment(issue["key"], "Old row.", public=True)
        ref = stack.rt.store.find_ref("snow", sys_id)
        assert ref is not None
        comment_id = str(posted["id"])
        stack.rt.store.record_comment(ref.link_id, "jsm", comment_id, "jsm", comment_id)
        before = len(journal_texts(stack, sys_id))

        stack.process("jsm", issue["id"])

        entry = stack.rt.store.find_comment("jsm", comment_id)
        assert entry is not None
        assert entry.body_hash == body_hash("Old row.")
        assert len(journal_texts(stack, sys_id)) == before


class TestUpdateCommentHook:
    def test_default_raises_rejected(self, stack: Stack) -> None:
        """A connector without comment edits raises RejectedError from `update_comment`."""
        with pytest.raises(RejectedError, match="cannot be edited"):
            stack.rt.connectors["snow"].update_comment("abc", "def", "text")

    @responses.activate
    def test_jira_puts_adf_body(self, stack: Stack) -> None:
        """The Jira connector replaces a comment's body with a PUT of an ADF document."""
        connector = stack.rt.connectors["jsm"]
        assert isinstance(connector, JiraConnector)
        url = f"{stack.emulators.jira.base_url}/rest/api/3/issue/10000/comment/10500"
        reply = {"id": "10500", "body": text_to_adf("New text."), "jsdPublic": False}
        responses.put(url, json=reply)

        comment = connector.update_comment("10000", "10500", "New text.")

        sent = responses.calls[0].request
        assert sent.method == "PUT"
        assert isinstance(sent.body, bytes)
        assert json.loads(sent.body)["body"] == text_to_adf("New text.")
        assert comment.body == "New text."
        assert comment.public is False
