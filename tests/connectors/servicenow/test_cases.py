"""The ServiceNow connector on Customer Service Management cases, against the emulator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.connectors.servicenow.conftest import MakeSettings
from tierbridge.connectors.servicenow.connector import ServiceNowConnector
from tierbridge.core.errors import RejectedError
from tierbridge.core.mapping import Mapper, load_mapping
from tierbridge.core.model import Priority, Status
from tierbridge.emulators.servicenow import ServiceNowEmulator

CSM_MAPPING = Path(__file__).resolve().parents[3] / "mappings" / "servicenow-csm.yaml"


@pytest.fixture
def cases(make_settings: MakeSettings) -> Iterator[ServiceNowConnector]:
    snow = ServiceNowConnector("csm", make_settings(table="sn_customerservice_case"))
    yield snow
    snow.close()


@pytest.fixture
def mapper() -> Mapper:
    return Mapper(load_mapping(CSM_MAPPING), "csm")


def test_create_case_reads_back(cases: ServiceNowConnector, emulator: ServiceNowEmulator) -> None:
    """A created case gets a CS number and its contact reads back as an e-mail address."""
    emulator.state.ensure_user("sam.roe@example.com")

    record = cases.create_record(
        {
            "short_description": "Portal login fails",
            "priority": "2",
            "contact": "sam.roe@example.com",
        },
        correlation_id="jsm:10001",
    )

    assert record.key is not None
    assert record.key.startswith("CS")
    assert record.fields["contact"] == "sam.roe@example.com"
    assert record.fields["priority"] == "2"
    assert record.fields["correlation_id"] == "jsm:10001"


def test_case_priority_is_writable(cases: ServiceNowConnector) -> None:
    """Unlike incidents, a case keeps the priority written to it."""
    record = cases.create_record({"short_description": "Slow portal"}, correlation_id="x:1")

    updated = cases.update_record(record.id, {"priority": "1"})

    assert updated.fields["priority"] == "1"


def test_case_maps_to_canonical(cases: ServiceNowConnector, mapper: Mapper) -> None:
    """The shipped CSM mapping turns case states and priorities into canonical values."""
    record = cases.create_record(
        {"short_description": "Invoice missing", "state": "18", "priority": "3"},
        correlation_id="x:2",
    )

    ticket = mapper.to_ticket(record)

    assert ticket.status is Status.PENDING
    assert ticket.priority is Priority.P3
    assert ticket.title == "Invoice missing"


def test_resolve_case_needs_resolution(cases: ServiceNowConnector) -> None:
    """Resolving a case without a resolution code is refused, with one it is stored."""
    record = cases.create_record({"short_description": "Broken export"}, correlation_id="x:3")

    with pytest.raises(RejectedError):
        cases.update_record(record.id, {"state": "6"})
    resolved = cases.update_record(
        record.id,
        {"state": "6", "resolution_code": "Solved (Permanently)", "close_notes": "Fixed."},
    )

    assert resolved.fields["state"] == "6"
    assert resolved.fields["resolution_code"] == "Solved (Permanently)"


def test_case_comments_keep_visibility(cases: ServiceNowConnector) -> None:
    """Public comments and work notes on a case come back with their visibility."""
    record = cases.create_record({"short_description": "Question"}, correlation_id="x:4")

    cases.add_comment(record.id, "Customer-visible reply", public=True)
    cases.add_comment(record.id, "Agents only", public=False)
    comments = cases.list_comments(record.id)

    assert [(c.body, c.public) for c in comments] == [
        ("Customer-visible reply", True),
        ("Agents only", False),
    ]


def test_incident_fields_rejected_on_case(cases: ServiceNowConnector) -> None:
    """An incident-only field written to a case is refused, not silently dropped."""
    with pytest.raises(RejectedError, match="caller_id"):
        cases.create_record(
            {"short_description": "x", "caller_id": "a@example.com"}, correlation_id="x:5"
        )
