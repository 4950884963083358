"""Tests of the Jira metadata reader: what the project's edit screen offers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from structlog.testing import capture_logs

from tests.conftest import Stack
from tests.core.ops.support import escalate
from tierbridge.connectors.jira.client import JiraClient
from tierbridge.core.errors import RejectedError
from tierbridge.core.ops.metadata import JiraMetadata, read_jira_metadata

EDITMETA = ("GET", "/rest/api/3/issue/{issueIdOrKey}/editmeta")


@pytest.fixture
def client(stack: Stack) -> Iterator[JiraClient]:
    """A client of the stack's JSM emulator, with the demo config's `jsm` settings."""
    client = JiraClient("jsm", stack.rt.config.connectors["jsm"])
    yield client
    client.close()


def read(stack: Stack, client: JiraClient) -> tuple[JiraMetadata, list[tuple[str, str]]]:
    """Read the `jsm` connector's metadata and return it with the (method, path) of each call."""
    logs: list[dict[str, Any]]
    with capture_logs() as logs:
        meta = read_jira_metadata(client, stack.rt.config.connectors["jsm"])
    calls = [(log["method"], log["path"]) for log in logs if log["event"] == "api_call"]
    return meta, calls


class TestResolutionOnEditScreen:
    def test_absent(self, stack: Stack, client: JiraClient) -> None:
        """An edit screen without Resolution is read from one editmeta call as False."""
        escalate(stack)

        meta, calls = read(stack, client)

        assert meta.issues_read == 1
        assert meta.resolution_on_edit_screen is False
        assert calls.count(EDITMETA) == 1

    def test_present(self, stack: Stack, client: JiraClient) -> None:
        """An edit screen with Resolution is read as True."""
        escalate(stack)
        escalate(stack)
        stack.emulators.jira.resolution_on_edit_screen = True

        meta, calls = read(stack, client)

        assert meta.issues_read == 2
        assert meta.resolution_on_edit_screen is True
        assert calls.count(EDITMETA) == 1

    def test_unknown_without_issue(self, stack: Stack, client: JiraClient) -> None:
        """A project without issues has no edit screen to read: unknown, and no editmeta call."""
        stack.emulators.jira.resolution_on_edit_screen = True

        meta, calls = read(stack, client)

        assert meta.issues_read == 0
        assert meta.resolution_on_edit_screen is None
        assert EDITMETA not in calls

    def test_unknown_when_unreadable(
        self, stack: Stack, client: JiraClient, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """An unreadable edit screen (editmeta rejected) is unknown, and the rest is still read."""
        escalate(stack)

        def reject(issue_id: str) -> dict[str, Any]:
            raise RejectedError(
                "rejected", connector="jsm", operation="read edit screen", record=issue_id
            )

        monkeypatch.setattr(client, "edit_screen", reject)

        meta, _calls = read(stack, client)

        assert meta.issues_read == 1
        assert meta.resolution_on_edit_screen is None
        assert "Resolved" in meta.statuses
