from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from tierbridge.emulators.salesforce import AGENT_USERNAME, SalesforceAgent, SalesforceEmulator


@pytest.fixture
def agent(emulator: SalesforceEmulator) -> Iterator[SalesforceAgent]:
    with SalesforceAgent(emulator.base_url, emulator.ca_cert) as person:
        yield person


def test_case_lifecycle(agent: SalesforceAgent, emulator: SalesforceEmulator) -> None:
    """The agent creates and updates a Case as its own user."""
    created = agent.create_case(Subject="Printer jam", Priority="Low")
    updated = agent.update_case(created["Id"], Status="Working")

    agent_user = emulator.state.user_by_username(AGENT_USERNAME)
    assert agent_user is not None
    assert created["CaseNumber"] == "00001001"
    assert created["CreatedById"] == agent_user["Id"]
    assert updated["Status"] == "Working"
    assert agent.get_case(created["Id"])["Priority"] == "Low"


def test_comments_by_visibility(agent: SalesforceAgent) -> None:
    """Internal notes are unpublished, replies published; both are listed oldest first."""
    case_id = agent.create_case(Subject="VPN")["Id"]

    note = agent.add_comment(case_id, "Checked the logs.", internal=True)
    reply = agent.add_comment(case_id, "Please reconnect.", internal=False)
    listed = agent.list_comments(case_id)

    assert note["IsPublished"] is False
    assert reply["IsPublished"] is True
    assert [row["CommentBody"] for row in listed] == ["Checked the logs.", "Please reconnect."]


def test_errors_raise(agent: SalesforceAgent) -> None:
    """A rejected write raises HTTPError."""
    with pytest.raises(requests.HTTPError):
        agent.create_case(Status="Bogus")


def test_files_round_trip(agent: SalesforceAgent, emulator: SalesforceEmulator) -> None:
    """The agent attaches a file to a Case, lists it and downloads the same bytes."""
    case_id = agent.create_case(Subject="Printer")["Id"]
    content = bytes(range(256))

    version = agent.attach(case_id, "scan.pdf", content, "application/pdf")
    [listed] = agent.list_files(case_id)
    downloaded = agent.download(version["Id"])

    assert version["PathOnClient"] == "scan.pdf"
    assert version["Title"] == "scan"
    assert version["ContentSize"] == 256
    assert listed["ContentDocument"]["LatestPublishedVersionId"] == version["Id"]
    assert listed["ContentDocument"]["LatestPublishedVersion"]["PathOnClient"] == "scan.pdf"
    assert downloaded == content
    [stored] = emulator.state.files(case_id)
    assert stored.content == content
