"""The engine reads a ticket's comments and files only when its webhook shows they may have changed."""

from __future__ import annotations

from typing import Any

from structlog.testing import capture_logs

from tests.conftest import Stack
from tests.core.engine.test_history_regressions import escalated
from tierbridge.core.store import InboxRow


def notice(changed: list[str], event: str = "incident.updated") -> dict[str, Any]:
    return {"event": event, "table": "incident", "changed": changed}


def handle_notice(stack: Stack, sys_id: str, payload: dict[str, Any]) -> tuple[InboxRow, list[str]]:
    """Store a ServiceNow notice with `payload`, handle it, and return it and its calls.

    Each call reads `METHOD path`, with the path template the connector logged.
    """
    count = len(stack.rt.store.list_events(limit=10_000))
    event_id = stack.rt.store.add_event(
        "snow", f"notice-{count}", sys_id, "updated", None, payload, stack.rt.clock()
    )
    assert event_id is not None
    with capture_logs() as logs:
        stack.handle_due()
    row = stack.rt.store.get_event(event_id)
    assert row is not None
    paths = [
        f"{entry['method']} {entry['path']}" for entry in logs if entry.get("event") == "api_call"
    ]
    return row, paths


def test_field_notice_reads_no_lists(stack: Stack) -> None:
    """A notice that names only fields reads neither the journal nor the files."""
    sys_id, _issue = escalated(stack)
    stack.l1.update_incident(sys_id, state="2")

    row, paths = handle_notice(stack, sys_id, notice(["state"]))

    assert row.status == "done"
    assert not any("sys_journal_field" in path for path in paths)
    assert not any("/attachment" in path for path in paths)


def test_journal_notice_copies_comment(stack: Stack) -> None:
    """A notice that names a journal field reads the journal, and the comment is copied."""
    sys_id, issue = escalated(stack)
    stack.l1.add_comment(sys_id, "Rebooted the concentrator.", internal=True)

    _row, paths = handle_notice(stack, sys_id, notice(["work_notes"]))

    assert any("sys_journal_field" in path for path in paths)
    assert not any("/attachment" in path for path in paths)
    comments = stack.l2.get_issue(issue["key"])["fields"]["comment"]["comments"]
    assert any("concentrator" in str(comment["body"]) for comment in comments)


def test_attachment_notice_copies_file(stack: Stack) -> None:
    """The attachment rule's notice reads the files, and the file is copied."""
    sys_id, issue = escalated(stack)
    stack.l1.attach(sys_id, "trace.txt", b"trace", "text/plain")

    handle_notice(stack, sys_id, notice([], event="incident.attachment_added"))

    assert [item["filename"] for item in stack.l2.list_attachments(issue["key"])] == ["trace.txt"]


def test_escalating_notice_reads_everything(stack: Stack) -> None:
    """A notice whose pass creates the counterpart copies the comments made before it."""
    incident = stack.open_incident()
    sys_id = incident["sys_id"]
    stack.process("snow", sys_id)
    stack.l1.add_comment(sys_id, "Customer cannot log in.", internal=False)
    stack.l1.update_incident(sys_id, impact="1", urgency="1")

    handle_notice(stack, sys_id, notice(["impact", "urgency", "priority"]))

    (issue,) = stack.jsm_issues()
    comments = stack.l2.get_issue(issue["key"])["fields"]["comment"]["comments"]
    assert any("cannot log in" in str(comment["body"]) for comment in comments)


def test_owned_field_write_skips_target_read(stack: Stack) -> None:
    """A title the lower tier owns is written without first reading the JSM issue."""
    sys_id, _issue = escalated(stack)
    stack.l1.update_incident(sys_id, short_description="VPN drops on floor 3")

    _row, paths = handle_notice(stack, sys_id, notice(["short_description"]))

    issue_calls = [call for call in paths if call.endswith(" /rest/api/3/issue/{issueIdOrKey}")]
    assert issue_calls[0].startswith("PUT ")
    assert stack.jsm_issues()[0]["fields"]["summary"] == "VPN drops on floor 3"
