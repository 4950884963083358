"""The shipped mapping file `mappings/dynamics.yaml` against records of this connector."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tierbridge.core.connector import NativeRecord
from tierbridge.core.mapping import Mapper, load_mapping
from tierbridge.core.model import Priority, Status, Ticket, TicketRef

MAPPING = Path(__file__).resolve().parents[3] / "mappings" / "dynamics.yaml"


@pytest.fixture(scope="module")
def mapper() -> Mapper:
    return Mapper(load_mapping(MAPPING), "dyn")


def _record(**fields: Any) -> NativeRecord:
    return NativeRecord(
        id="3f2a8c1e-5b7d-4e9f-a1c2-0d9e8f7a6b5c",
        key="CAS-01026-K7M2Q9",
        version="00000000000004471203",
        updated=datetime(2024, 5, 1, 9, 3, 10, tzinfo=UTC),
        fields=fields,
    )


@pytest.mark.parametrize(
    ("statuscode", "status"),
    [
        (1, "in_progress"),
        (2, "pending"),
        (3, "pending"),
        (4, "in_progress"),
        (5, "resolved"),
        (1000, "resolved"),
        (6, "canceled"),
        (2000, "canceled"),
    ],
)
def test_status_inbound(mapper: Mapper, statuscode: int, status: str) -> None:
    """Every base status reason reads as a canonical status."""
    assert mapper.to_ticket(_record(statuscode=statuscode)).status == Status(status)


@pytest.mark.parametrize(
    ("status", "statuscode"),
    [
        ("new", "1"),
        ("in_progress", "1"),
        ("pending", "3"),
        ("resolved", "5"),
        ("closed", "5"),
        ("canceled", "6"),
    ],
)
def test_status_outbound(mapper: Mapper, status: str, statuscode: str) -> None:
    """Every canonical status has an explicit status reason to write."""
    ticket = Ticket(ref=TicketRef(connector="snow", id="x"), status=Status(status))

    assert mapper.to_native(ticket, {"status"}) == {"statuscode": statuscode}


@pytest.mark.parametrize(("code", "priority"), [(1, "P2"), (2, "P3"), (3, "P4")])
def test_priority_inbound(mapper: Mapper, code: int, priority: str) -> None:
    """prioritycode High, Normal and Low read as P2, P3 and P4."""
    assert mapper.to_ticket(_record(prioritycode=code)).priority == Priority(priority)


@pytest.mark.parametrize(
    ("priority", "code"), [("P1", "1"), ("P2", "1"), ("P3", "2"), ("P4", "3"), ("P5", "3")]
)
def test_priority_outbound(mapper: Mapper, priority: str, code: str) -> None:
    """Every canonical priority has an explicit prioritycode to write."""
    ticket = Ticket(ref=TicketRef(connector="snow", id="x"), priority=Priority(priority))

    assert mapper.to_native(ticket, {"priority"}) == {"prioritycode": code}


def test_lookups_and_text(mapper: Mapper) -> None:
    """Title, owner, customer and correlation id pass through unchanged."""
    ticket = mapper.to_ticket(
        _record(
            title="VPN",
            ownerid="Outsourced L2",
            customerid="casey@example.com",
            new_externalref="snow:1",
        )
    )

    assert (ticket.title, ticket.assignee, ticket.reporter, ticket.correlation_id) == (
        "VPN",
        "Outsourced L2",
        "casey@example.com",
        "snow:1",
    )
