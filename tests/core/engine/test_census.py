"""Tests for the deletion census (`tierbridge.core.census`) on both emulators."""

from __future__ import annotations

from typing import Any

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from tests.conftest import Stack
from tests.core.engine.support import actions
from tierbridge.connectors.jira.adf import adf_to_text
from tierbridge.core.census import census, schedule_census
from tierbridge.core.connector import NativeRecord
from tierbridge.core.errors import AuthenticationError
from tierbridge.core.sync_settings import OnDelete


def escalated(stack: Stack) -> tuple[str, dict[str, Any]]:
    """Open and escalate a P1 incident, and return its sys_id and its JSM issue."""
    incident = stack.open_incident(impact="1", urgency="1")
    stack.process("snow", incident["sys_id"])
    (issue,) = stack.jsm_issues()
    return incident["sys_id"], issue


def set_policy(stack: Stack, policy: OnDelete) -> None:
    """Set `sync.on_delete` in the stack's runtime config."""
    config = stack.rt.config
    sync = config.sync.model_copy(update={"on_delete": policy})
    stack.rt.config = config.model_copy(update={"sync": sync})


def refuse_reads(stack: Stack, connector: str, status: int) -> None:
    """Make every read of `connector` fail as the vendor does with `status` (401 or 403)."""

    def refused(ticket_id: str) -> NativeRecord:
        msg = "the integration account lacks permission for this call"
        raise AuthenticationError(msg, connector=connector, operation="read", status=status)

    stack.rt.connectors[connector].get_record = refused  # type: ignore[method-assign]


def jsm_comments(stack: Stack, key: str) -> list[tuple[str, bool]]:
    """Return each JSM comment's text and whether it is public."""
    comments = stack.l2.get_issue(key)["fields"]["comment"]["comments"]
    return [(adf_to_text(item["body"]) or "", bool(item["jsdPublic"])) for item in comments]


def delete_jira_issue(stack: Stack, issue_id: str) -> None:
    """Delete an issue in the JSM emulator, as an admin would in Jira."""
    state = stack.emulators.jira.state
    with state.lock:
        state.issues.pop(int(issue_id))


class TestDeleted:
    def test_deleted_incident_noted(self, stack: Stack) -> None:
        """A deleted incident gives its JSM issue one internal note and leaves its link."""
        sys_id, issue = escalated(stack)
        stack.emulators.snow.state.delete("incident", sys_id)

        result = census(stack.rt, "snow")

        assert result.deleted == [sys_id]
        assert result.access_lost == []
        notes = [c for c in jsm_comments(stack, issue["key"]) if "was deleted" in c[0]]
        assert notes == [(notes[0][0], False)]
        assert stack.rt.store.find_ref("snow", sys_id) is None

    def test_deleted_logged(self, stack: Stack) -> None:
        """The sync log records `deleted`, naming the counterpart."""
        sys_id, issue = escalated(stack)
        stack.emulators.snow.state.delete("incident", sys_id)

        census(stack.rt, "snow")

        rows = [row for row in stack.rt.store.sync_log(limit=100) if row.action == "deleted"]
        assert len(rows) == 1
        assert rows[0].ticket_id == sys_id
        assert rows[0].target_ticket == issue["key"]

    def test_deleted_issue_noted(self, stack: Stack) -> None:
        """A deleted JSM issue gives its incident one work note."""
        sys_id, issue = escalated(stack)
        delete_jira_issue(stack, issue["id"])

        result = census(stack.rt, "jsm")

        assert result.deleted == [issue["id"]]
        notes = [
            entry["element"]
            for entry in stack.l1.list_journal(sys_id)
            if "was deleted" in entry["value"]
        ]
        assert notes == ["work_notes"]

    def test_reported_once(self, stack: Stack) -> None:
        """A second census neither reads the deleted ticket nor notes it again."""
        sys_id, issue = escalated(stack)
        stack.emulators.snow.state.delete("incident", sys_id)
        census(stack.rt, "snow")

        again = census(stack.rt, "snow")

        assert again.checked == 0
        notes = [c for c in jsm_comments(stack, issue["key"]) if "was deleted" in c[0]]
        assert len(notes) == 1

    def test_present_ticket_untouched(self, stack: Stack) -> None:
        """A census of readable tickets changes and logs nothing."""
        _sys_id, issue = escalated(stack)
        logged = len(actions(stack.rt))

        result = census(stack.rt, "snow")

        assert result.checked == 1
        assert result.deleted == []
        assert len(actions(stack.rt)) == logged
        assert jsm_comments(stack, issue["key"]) == []


class TestPolicies:
    def test_close_cancels_counterpart(self, stack: Stack) -> None:
        """With `close`, the JSM issue of a deleted incident is canceled and noted."""
        set_policy(stack, "close")
        sys_id, issue = escalated(stack)
        stack.emulators.snow.state.delete("incident", sys_id)

        census(stack.rt, "snow")

        fields = stack.l2.get_issue(issue["key"])["fields"]
        assert fields["status"]["name"] == "Canceled"
        assert any("was deleted" in text for text, _ in jsm_comments(stack, issue["key"]))

    def test_ignore_posts_nothing(self, stack: Stack) -> None:
        """With `ignore`, the deletion is logged and the JSM issue is left as it is."""
        set_policy(stack, "ignore")
        sys_id, issue = escalated(stack)
        stack.emulators.snow.state.delete("incident", sys_id)

        census(stack.rt, "snow")

        assert jsm_comments(stack, issue["key"]) == []
        assert "deleted" in actions(stack.rt)


class TestAccessLost:
    def test_forbidden_is_access_lost(self, stack: Stack) -> None:
        """A 403 on the read is logged as `access_lost`, never as `deleted`."""
        sys_id, issue = escalated(stack)
        refuse_reads(stack, "snow", 403)

        result = census(stack.rt, "snow")

        assert result.access_lost == [sys_id]
        assert result.deleted == []
        logged = actions(stack.rt)
        assert "access_lost" in logged
        assert "deleted" not in logged
        assert any("can no longer read" in text for text, _ in jsm_comments(stack, issue["key"]))

    def test_close_spares_counterpart(self, stack: Stack) -> None:
        """With `close`, a counterpart of an unreadable ticket is noted but not canceled."""
        set_policy(stack, "close")
        _sys_id, issue = escalated(stack)
        refuse_reads(stack, "snow", 403)

        census(stack.rt, "snow")

        fields = stack.l2.get_issue(issue["key"])["fields"]
        assert fields["status"]["name"] != "Canceled"

    def test_refused_credentials_raise(self, stack: Stack) -> None:
        """A 401 stops the census with the error and marks no ticket."""
        sys_id, _issue = escalated(stack)
        refuse_reads(stack, "snow", 401)

        with pytest.raises(AuthenticationError):
            census(stack.rt, "snow")

        assert stack.rt.store.find_ref("snow", sys_id) is not None


def test_schedule_one_job_per_connector(stack: Stack) -> None:
    """`schedule_census` adds one interval job per connector."""
    scheduler = BackgroundScheduler(timezone="UTC")

    schedule_census(scheduler, stack.rt)

    assert sorted(job.id for job in scheduler.get_jobs()) == ["census:jsm", "census:snow"]
