"""A dataset-neutral view of logged tickets, in canonical values, for replay on any L1 system.

Each dataset reader turns its rows into `CaseLog`s: one `CaseUpdate` per logged update,
holding the ticket's values after that update. Each L1 desk writes those values in its own
system's fields (`TicketValues` below), so one dataset can be replayed on any system.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

from tierbridge.core.demo.dataset import IncidentEvent, IncidentHistory
from tierbridge.core.model import Priority, Status

__all__ = [
    "WAITING_COMMENT",
    "CaseLog",
    "CaseUpdate",
    "TicketValues",
    "from_servicenow",
    "journal_for",
]

#: The public comment an agent writes when a ticket starts waiting for the customer.
WAITING_COMMENT = "We need more information from you to continue. Please reply to this ticket."

#: ServiceNow log states, in canonical terms. `-100` marks a few broken rows; it is final.
_SERVICENOW_STATUS = {
    "New": Status.NEW,
    "Active": Status.IN_PROGRESS,
    "Awaiting User Info": Status.PENDING,
    "Awaiting Problem": Status.PENDING,
    "Awaiting Vendor": Status.PENDING,
    "Awaiting Evidence": Status.PENDING,
    "Resolved": Status.RESOLVED,
    "Closed": Status.CLOSED,
    "-100": Status.CLOSED,
}


@dataclass(frozen=True)
class TicketValues:
    """Canonical values an agent types into a ticket; None leaves a field as it is."""

    title: str | None = None
    description: str | None = None
    priority: Priority | None = None
    status: Status | None = None
    reporter: str | None = None
    group: str | None = None
    resolution_notes: str | None = None

    def changed_from(self, before: TicketValues) -> TicketValues:
        """Return only the values that differ from `before`."""
        changes = {
            item.name: getattr(self, item.name)
            for item in fields(self)
            if getattr(self, item.name) != getattr(before, item.name)
        }
        return TicketValues(**changes)

    def is_empty(self) -> bool:
        return all(getattr(self, item.name) is None for item in fields(self))


@dataclass(frozen=True)
class CaseUpdate:
    """One logged update: the ticket's values after it, and where the log puts the work."""

    at: datetime
    values: TicketValues
    #: The team the log names for this update (an assignment group, a support team).
    team: str | None = None
    #: The support line the log names (`L1`, `L2`, `L3`), for logs that record one.
    line: str | None = None
    #: Whether the ticket now waits for the customer, so the agent writes them a question.
    waiting_on_customer: bool = False

    @property
    def status(self) -> Status:
        return self.values.status or Status.NEW

    @property
    def priority(self) -> Priority:
        return self.values.priority or Priority.P3


@dataclass(frozen=True)
class CaseLog:
    """Every update of one logged ticket, in update order."""

    number: str
    updates: tuple[CaseUpdate, ...]


def journal_for(update: CaseUpdate, previous: CaseUpdate | None) -> tuple[list[str], list[str]]:
    """Return the internal notes and public comments an agent writes with `update`."""
    if previous is None:
        return [], []
    notes: list[str] = []
    comments: list[str] = []
    if update.team and update.team != previous.team:
        notes.append(f"Reassigned to {update.team} (reassignment from {previous.team}).")
    if update.waiting_on_customer and not previous.waiting_on_customer:
        comments.append(WAITING_COMMENT)
    return notes, comments


def _person_email(label: str | None) -> str | None:
    """`Caller 2403` -> `caller.2403@example.com`; the log's labels are anonymised already."""
    if label is None:
        return None
    return ".".join(label.lower().split()) + "@example.com"


def _servicenow_update(event: IncidentEvent) -> CaseUpdate:
    status = _SERVICENOW_STATUS.get(event.state, Status.IN_PROGRESS)
    priority = f"P{event.priority}"
    values = TicketValues(
        title=f"{event.symptom or 'Incident'} at {event.location or 'an unknown location'}",
        description=(
            f"Opened by {event.caller or 'an unknown caller'} via "
            f"{event.contact_type or 'an unknown channel'}. "
            f"{event.category or 'No category'} / {event.subcategory or 'no subcategory'}."
        ),
        priority=Priority(priority) if priority in Priority.__members__ else Priority.P3,
        status=status,
        reporter=_person_email(event.caller),
        group=event.assignment_group,
        resolution_notes=(
            f"Resolved by {event.resolved_by or 'the service desk'}." if status.is_final else None
        ),
    )
    return CaseUpdate(
        at=event.updated_at,
        values=values,
        team=event.assignment_group,
        waiting_on_customer=event.state == "Awaiting User Info",
    )


def from_servicenow(history: IncidentHistory) -> CaseLog:
    """Convert one incident of the ServiceNow event log."""
    return CaseLog(history.number, tuple(_servicenow_update(event) for event in history.events))
