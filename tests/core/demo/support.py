"""Build logged incident updates by hand, in the shape the shipped event log has, and a desk
that keeps tickets, journals and files in memory."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from tierbridge.core.demo.cases import TicketValues
from tierbridge.core.demo.dataset import IncidentEvent, IncidentHistory
from tierbridge.core.demo.desks import Attached, Desk, Entry, Seen

T0 = datetime(2016, 2, 29, 1, 23, tzinfo=UTC)


def logged(number: str = "INC0000001", step: int = 0, **values: Any) -> IncidentEvent:
    """Build one update of an incident. `step` sets sys_mod_count and a time `step` hours after T0."""
    base = IncidentEvent(
        number=number,
        state="New",
        sys_mod_count=step,
        updated_at=T0 + timedelta(hours=step),
        caller="Caller 2403",
        contact_type="Phone",
        location="Location 143",
        category="Category 55",
        subcategory="Subcategory 170",
        symptom="Symptom 72",
        impact="2",
        urgency="2",
        priority="3",
        assignment_group="Group 56",
        assigned_to=None,
        closed_code="code 5",
        resolved_by="Resolved by 149",
    )
    return replace(base, **values)


def history(number: str, *states: str, **values: Any) -> IncidentHistory:
    """An incident that passes through `states` in order, one update per hour."""
    events = tuple(logged(number, step, state=state, **values) for step, state in enumerate(states))
    return IncidentHistory(number=number, events=events)


class FakeDesk(Desk):
    """Tickets, journals and files held in memory, as a system would show them."""

    system = "fake"

    def __init__(self, tickets: list[Seen], journals: dict[str, list[Entry]]) -> None:
        self._tickets = {seen.id: seen for seen in tickets}
        self._journals = journals
        self._files: dict[str, list[tuple[str, bytes]]] = {}

    def open(self, values: TicketValues) -> str:
        raise NotImplementedError

    def change(self, ticket_id: str, values: TicketValues) -> None:
        raise NotImplementedError

    def comment(self, ticket_id: str, text: str, *, public: bool) -> None:
        self._journals.setdefault(ticket_id, []).append(Entry(text, public))

    def attach(self, ticket_id: str, filename: str, content: bytes, content_type: str) -> None:
        self._files.setdefault(ticket_id, []).append((filename, content))

    def attachments(self, ticket_id: str) -> list[Attached]:
        return [
            Attached.from_bytes(f"{ticket_id}/{index}", filename, content)
            for index, (filename, content) in enumerate(self._files.get(ticket_id, []))
        ]

    def tickets(self) -> list[Seen]:
        return list(self._tickets.values())

    def read(self, ticket_id: str) -> Seen:
        return self._tickets[ticket_id]

    def journal(self, ticket_id: str) -> list[Entry]:
        return self._journals.get(ticket_id, [])

    def take(self, ticket_id: str) -> None:
        return None

    def resolve(self, ticket_id: str, note: str) -> None:
        return None

    def close(self) -> None:
        return None


class QuietFakeDesk(FakeDesk):
    """A fake desk of a system that sends no notice when a file is attached, as Salesforce."""

    file_notifies = False
