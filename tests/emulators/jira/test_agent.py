from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from tests.emulators.jira.support import AGENT, Api
from tierbridge.emulators.jira import JiraEmulator
from tierbridge.emulators.jira.agent import JiraAgent


@pytest.fixture
def jira_agent(emulator: JiraEmulator) -> Iterator[JiraAgent]:
    person = JiraAgent(emulator.base_url, emulator.ca_cert, *AGENT)
    yield person
    person.close()


def test_agent_transitions_with_resolution(jira_agent: JiraAgent, svc: Api) -> None:
    """transition_to finds the transition by target status and supplies the resolution."""
    key = svc.create_request()["issueKey"]

    jira_agent.transition_to(key, "In Progress")
    jira_agent.transition_to(key, "Resolved", resolution="Done")
    fields = jira_agent.get_issue(key)["fields"]

    assert fields["status"]["name"] == "Resolved"
    assert fields["resolution"]["name"] == "Done"


def test_agent_unknown_target(jira_agent: JiraAgent, svc: Api) -> None:
    """A status with no transition from here raises ValueError naming the targets."""
    key = svc.create_request()["issueKey"]

    with pytest.raises(ValueError, match="available targets"):
        jira_agent.transition_to(key, "Closed")


def test_agent_internal_comment(jira_agent: JiraAgent, svc: Api) -> None:
    """add_comment(public=False) makes an internal note."""
    key = svc.create_request()["issueKey"]

    created = jira_agent.add_comment(key, "checking logs", public=False)

    assert created["jsdPublic"] is False
    assert created["author"]["emailAddress"] == "agent.l2@example.com"


def test_agent_update_and_search(jira_agent: JiraAgent, svc: Api) -> None:
    """update_fields sends text descriptions as ADF; search pages to the end."""
    key = svc.create_request()["issueKey"]

    jira_agent.update_fields(key, description="new text", priority={"name": "Highest"})
    found = jira_agent.search("project = L2")

    assert [issue["key"] for issue in found] == [key]
    assert found[0]["fields"]["priority"]["name"] == "Highest"
    assert found[0]["fields"]["description"]["type"] == "doc"


def test_agent_error_raises(jira_agent: JiraAgent) -> None:
    """A failed call raises requests.HTTPError."""
    with pytest.raises(requests.HTTPError):
        jira_agent.get_issue("L2-404")


def test_agent_attach_list_download(
    jira_agent: JiraAgent, svc: Api, emulator: JiraEmulator
) -> None:
    """attach uploads as a browser does; list_attachments and download read the file back."""
    key = svc.create_request()["issueKey"]
    content = bytes(range(256))

    created = jira_agent.attach(key, "trace.bin", content)
    listed = jira_agent.list_attachments(key)
    downloaded = jira_agent.download(created["id"])

    assert created["mimeType"] == "application/octet-stream"
    assert created["author"]["emailAddress"] == "agent.l2@example.com"
    assert [item["id"] for item in listed] == [created["id"]]
    assert downloaded == content
    assert [item.content for item in emulator.attachments(key)] == [content]


def test_agent_attach_keeps_type(jira_agent: JiraAgent, svc: Api) -> None:
    """A content type given to attach is the one Jira stores."""
    key = svc.create_request()["issueKey"]

    created = jira_agent.attach(key, "shot.png", b"\x89PNG", "image/png")

    assert created["mimeType"] == "image/png"
