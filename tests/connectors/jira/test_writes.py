from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tierbridge.connectors.jira.settings import JiraSettings
from tierbridge.connectors.jira.writes import (
    edit_payload,
    lone_resolution,
    pick_transition,
    transition_fields,
)
from tierbridge.core.connector_settings import BasicAuth
from tierbridge.core.errors import RejectedError
from tierbridge.core.secrets import SecretRef

WHERE: dict[str, Any] = {"connector": "jira-l2", "operation": "update issue", "record": "10000"}
SETTINGS = JiraSettings.model_validate(
    {
        "system": "jira",
        "base_url": "https://example.atlassian.net",
        "mapping": Path("mappings/jira.yaml"),
        "auth": BasicAuth(
            type="basic", username="svc@example.com", password=SecretRef(env="UNUSED")
        ),
        "project": "L2",
        "service_desk_id": "1",
        "request_type_id": "10",
    }
)
RESOLVE = {
    "id": "51",
    "name": "Resolve this issue",
    "to": {"name": "Resolved"},
    "fields": {"resolution": {"required": True, "key": "resolution"}},
}
START = {"id": "11", "name": "Start progress", "to": {"name": "In Progress"}, "fields": {}}


def _accounts(field: str, email: str) -> str:
    return f"id-of-{email}"


def test_edit_payload_shapes() -> None:
    """Each field gets Jira's write shape; status and resolution are left to transitions."""
    payload = edit_payload(
        {
            "summary": "s",
            "description": "a\nb",
            "priority": "High",
            "assignee": "x@example.com",
            "reporter": None,
            "labels": ["vpn"],
            "customfield_10050": "Network",
            "customfield_10060": "snow:1",
            "customfield_10099": 3,
            "status": "Resolved",
            "resolution": "Done",
        },
        SETTINGS,
        _accounts,
        WHERE,
    )

    assert payload == {
        "summary": "s",
        "description": {
            "type": "doc",
            "version": 1,
            "content": [
                {
                    "type": "paragraph",
                    "content": [
                        {"type": "text", "text": "a"},
                        {"type": "hardBreak"},
                        {"type": "text", "text": "b"},
                    ],
                }
            ],
        },
        "priority": {"name": "High"},
        "assignee": {"accountId": "id-of-x@example.com"},
        "reporter": None,
        "labels": ["vpn"],
        "customfield_10050": {"value": "Network"},
        "customfield_10060": "snow:1",
        "customfield_10099": 3,
    }


def test_edit_payload_clears() -> None:
    """None clears description, assignee and the category."""
    payload = edit_payload(
        {"description": None, "assignee": None, "customfield_10050": None},
        SETTINGS,
        _accounts,
        WHERE,
    )

    assert payload == {"description": None, "assignee": None, "customfield_10050": None}


def test_edit_payload_unknown_field() -> None:
    """A field the connector cannot write raises RejectedError naming it."""
    with pytest.raises(RejectedError, match="'watchers' cannot be written"):
        edit_payload({"watchers": ["a"]}, SETTINGS, _accounts, WHERE)


def test_pick_transition_by_target() -> None:
    """Transitions are chosen by target status name, ignoring case."""
    assert pick_transition([START, RESOLVE], "resolved") is RESOLVE
    assert pick_transition([START], "Closed") is None


def test_required_resolution_defaults() -> None:
    """A required resolution uses the given one, else the configured default."""
    assert transition_fields(RESOLVE, None, "Done", WHERE) == {"resolution": {"name": "Done"}}
    assert transition_fields(RESOLVE, "Duplicate", "Done", WHERE) == {
        "resolution": {"name": "Duplicate"}
    }


def test_screen_without_fields() -> None:
    """A transition without a screen gets no fields, even when a resolution is given."""
    assert transition_fields(START, "Done", "Done", WHERE) == {}


def test_unfillable_required_field() -> None:
    """Other required screen fields raise RejectedError naming them."""
    transition = {"name": "Escalate", "fields": {"customfield_1": {"required": True}}}

    with pytest.raises(RejectedError, match="customfield_1"):
        transition_fields(transition, None, "Done", WHERE)


def test_lone_resolution_on_screen() -> None:
    """With Resolution on the edit screen, a name is sent by name and None clears it."""
    screen = {"resolution": {"required": False, "operations": ["set"]}}

    assert lone_resolution("Done", screen, SETTINGS, WHERE) == {"name": "Done"}
    assert lone_resolution(None, screen, SETTINGS, WHERE) is None


def test_lone_resolution_off_screen() -> None:
    """Without Resolution on the edit screen, RejectedError names the value and the fix."""
    screen = {"summary": {"required": True, "operations": ["set"]}}

    with pytest.raises(RejectedError) as caught:
        lone_resolution(None, screen, SETTINGS, WHERE)

    assert "resolution to none" in str(caught.value)
    assert "edit screen of project L2" in str(caught.value)
