from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from tierbridge.emulators.dynamics import DynamicsAgent, DynamicsEmulator

#: A file name with an umlaut, an en dash and kanji.
NAME = "Prüfbericht \u2013 東京.pdf"


@pytest.fixture
def agent(emulator: DynamicsEmulator) -> Iterator[DynamicsAgent]:
    with DynamicsAgent(emulator.base_url, emulator.ca_cert) as helper:
        yield helper


def _customer(emulator: DynamicsEmulator) -> dict[str, str]:
    return {"customerid_contact@odata.bind": f"/contacts({emulator.state.seed.contact})"}


def test_agent_case_lifecycle(agent: DynamicsAgent, emulator: DynamicsEmulator) -> None:
    """The agent creates, updates, notes and resolves a case as Alex Doe."""
    case = agent.create_incident(title="VPN", **_customer(emulator))
    agent.update_incident(case["incidentid"], prioritycode=1)
    agent.add_note(case["incidentid"], "Called the customer.")
    agent.resolve(case["incidentid"])

    read = agent.get_incident(case["incidentid"])
    notes = agent.list_notes(case["incidentid"])

    assert read["prioritycode"] == 1
    assert read["statuscode@OData.Community.Display.V1.FormattedValue"] == "Problem Solved"
    assert read["_modifiedby_value@OData.Community.Display.V1.FormattedValue"] == "Alex Doe"
    assert [note["notetext"] for note in notes] == ["Called the customer."]


def test_agent_update_never_creates(agent: DynamicsAgent, emulator: DynamicsEmulator) -> None:
    """update_incident sends If-Match: *, so a missing case raises instead of being created."""
    missing = "3f2a8c1e-5b7d-4e9f-a1c2-0d9e8f7a6b5c"

    with pytest.raises(requests.HTTPError) as caught:
        agent.update_incident(missing, title="x")

    assert caught.value.response is not None
    assert caught.value.response.status_code == 404
    assert emulator.state.get("incident", missing) is None


def test_agent_attach_round_trip(agent: DynamicsAgent, emulator: DynamicsEmulator) -> None:
    """The agent attaches a file as Alex Doe, lists it and downloads the same bytes."""
    case = agent.create_incident(title="VPN", **_customer(emulator))
    content = bytes(range(256))

    note = agent.attach(case["incidentid"], NAME, content, "application/pdf", text="See file.")
    listed = agent.list_attachments(case["incidentid"])
    downloaded = agent.download(note["annotationid"])

    assert note["_createdby_value@OData.Community.Display.V1.FormattedValue"] == "Alex Doe"
    assert [(f["filename"], f["filesize"], f["notetext"]) for f in listed] == [
        (NAME, 256, "See file.")
    ]
    assert downloaded == content
    [stored] = emulator.state.attachments(case["incidentid"])
    assert (stored.mimetype, stored.content) == ("application/pdf", content)


def test_agent_attach_without_type(agent: DynamicsAgent, emulator: DynamicsEmulator) -> None:
    """Without a content type the note has no mimetype and no text."""
    case = agent.create_incident(title="VPN", **_customer(emulator))

    agent.attach(case["incidentid"], "notes.bin", b"\x00")

    [stored] = emulator.state.attachments(case["incidentid"])
    assert (stored.mimetype, stored.notetext) == (None, None)
