from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from tests.emulators.servicenow.support import AGENT
from tierbridge.emulators.servicenow import ServiceNowAgent, ServiceNowEmulator


@pytest.fixture
def person(emulator: ServiceNowEmulator) -> Iterator[ServiceNowAgent]:
    with ServiceNowAgent(emulator.base_url, emulator.ca_cert, *AGENT) as agent:
        yield agent


def test_create_with_names(person: ServiceNowAgent, emulator: ServiceNowEmulator) -> None:
    """The agent writes display values: group names and state labels."""
    created = person.create_incident(
        short_description="Printer jam", assignment_group="Outsourced L2", state="In Progress"
    )

    group = emulator.state.ensure_group("Outsourced L2")
    assert created["assignment_group"] == group["sys_id"]
    assert created["state"] == "2"
    assert created["sys_created_by"] == "agent.l1"


def test_update_and_read(person: ServiceNowAgent) -> None:
    """update_incident changes a field that get_incident then reads."""
    created = person.create_incident(short_description="Printer jam")

    person.update_incident(created["sys_id"], urgency="1")

    assert person.get_incident(created["sys_id"])["urgency"] == "1"


def test_comments_by_visibility(person: ServiceNowAgent) -> None:
    """add_comment posts a work note when internal and a comment otherwise."""
    created = person.create_incident(short_description="Printer jam")

    person.add_comment(created["sys_id"], "Customer called", internal=False)
    person.add_comment(created["sys_id"], "Escalating", internal=True)

    entries = person.list_journal(created["sys_id"])
    assert [(entry["element"], entry["value"]) for entry in entries] == [
        ("comments", "Customer called"),
        ("work_notes", "Escalating"),
    ]


def test_errors_raise(person: ServiceNowAgent) -> None:
    """An HTTP error raises HTTPError."""
    with pytest.raises(requests.HTTPError):
        person.get_incident("0" * 32)
