"""`update_record` with a resolution and no status: an edit where the edit screen allows it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from structlog.testing import capture_logs

from tests.emulators.jira.support import WebhookSink
from tierbridge.connectors.jira.connector import JiraConnector
from tierbridge.core.errors import RejectedError
from tierbridge.emulators.jira import JiraEmulator

EDITMETA = ("GET", "/rest/api/3/issue/{issueIdOrKey}/editmeta")
EDIT = ("PUT", "/rest/api/3/issue/{issueIdOrKey}")


def _resolved(connector: JiraConnector, resolution: str = "Duplicate") -> str:
    """Create an issue and resolve it with `resolution`; return its id."""
    record = connector.create_record({"summary": "VPN drops"}, "snow:INC0010023")
    connector.update_record(record.id, {"status": "Resolved", "resolution": resolution})
    return record.id


class _Calls:
    """The (method, path template) of every API call the connector logged."""

    def __init__(self, logs: list[dict[str, Any]]) -> None:
        self.logs = logs

    @property
    def made(self) -> list[tuple[str, str]]:
        return [(log["method"], log["path"]) for log in self.logs if log["event"] == "api_call"]


@pytest.fixture
def calls() -> Iterator[_Calls]:
    with capture_logs() as logs:
        yield _Calls(logs)


class TestOnEditScreen:
    def test_written_by_edit(
        self, connector: JiraConnector, emulator: JiraEmulator, calls: _Calls
    ) -> None:
        """A lone resolution is read from editmeta, then set by one edit; the status stays."""
        issue_id = _resolved(connector)
        emulator.resolution_on_edit_screen = True
        calls.logs.clear()

        record = connector.update_record(issue_id, {"resolution": "Done"})

        assert record.fields["status"] == "Resolved"
        assert record.fields["resolution"] == "Done"
        assert calls.made[:2] == [EDITMETA, EDIT]
        assert calls.made.count(EDIT) == 1

    def test_plain_fields_same_edit(
        self,
        connector: JiraConnector,
        emulator: JiraEmulator,
        sink: WebhookSink,
        calls: _Calls,
    ) -> None:
        """Plain fields and the lone resolution travel in the same PUT: one change in Jira."""
        issue_id = _resolved(connector)
        emulator.resolution_on_edit_screen = True
        assert emulator.drain_webhooks(5)
        sink.deliveries.clear()
        calls.logs.clear()

        record = connector.update_record(issue_id, {"summary": "VPN down", "resolution": "Done"})
        assert emulator.drain_webhooks(5)

        assert record.fields["summary"] == "VPN down"
        assert record.fields["resolution"] == "Done"
        assert calls.made.count(EDIT) == 1
        assert len(sink.deliveries) == 1

    def test_issue_not_done_rejected(
        self, connector: JiraConnector, emulator: JiraEmulator
    ) -> None:
        """Jira's 400 for a resolution on an open issue is raised as RejectedError."""
        issue_id = connector.create_record({"summary": "VPN drops"}, "snow:INC0010023").id
        emulator.resolution_on_edit_screen = True

        with pytest.raises(RejectedError, match="fields with errors: resolution"):
            connector.update_record(issue_id, {"resolution": "Done"})


class TestOffEditScreen:
    def test_rejected_naming_fix(
        self, connector: JiraConnector, emulator: JiraEmulator, calls: _Calls
    ) -> None:
        """Without Resolution on the screen, RejectedError names the issue, value and fix."""
        issue_id = _resolved(connector)
        calls.logs.clear()

        with pytest.raises(RejectedError) as caught:
            connector.update_record(issue_id, {"summary": "VPN down", "resolution": "Done"})

        message = str(caught.value)
        assert caught.value.record == issue_id
        assert issue_id in message
        assert "'Done'" in message
        assert "add the Resolution field to the edit screen of project L2" in message
        assert "sync.ownership" not in message
        assert calls.made == [EDITMETA]
        record = connector.get_record(issue_id)
        assert record.fields["summary"] == "VPN drops"
        assert record.fields["resolution"] == "Duplicate"


class TestNoEditmetaRead:
    def test_ordinary_edit(self, connector: JiraConnector, calls: _Calls) -> None:
        """An edit without a resolution reads no edit screen."""
        issue_id = connector.create_record({"summary": "VPN drops"}, "snow:INC0010023").id
        calls.logs.clear()

        connector.update_record(issue_id, {"summary": "VPN down", "priority": "High"})

        assert EDITMETA not in calls.made
        assert EDIT in calls.made

    def test_resolution_with_status(self, connector: JiraConnector, calls: _Calls) -> None:
        """A resolution that goes with a status change takes the transition, not editmeta."""
        issue_id = connector.create_record({"summary": "VPN drops"}, "snow:INC0010023").id
        calls.logs.clear()

        record = connector.update_record(issue_id, {"status": "Resolved", "resolution": "Done"})

        assert record.fields["resolution"] == "Done"
        assert EDITMETA not in calls.made
