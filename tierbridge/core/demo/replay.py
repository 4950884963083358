"""Turn one logged incident update into the REST calls a ServiceNow agent would make."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tierbridge.core.demo.dataset import IncidentEvent

__all__ = ["AgentAction", "actions_for"]

_STATE = {
    "New": "1",
    "Active": "2",
    "Awaiting User Info": "3",
    "Awaiting Problem": "3",
    "Awaiting Vendor": "3",
    "Awaiting Evidence": "3",
    "Resolved": "6",
    "Closed": "7",
}
# Base-system hold reasons: 1 Awaiting Caller, 3 Awaiting Problem, 4 Awaiting Vendor.
_HOLD_REASON = {
    "Awaiting User Info": "1",
    "Awaiting Problem": "3",
    "Awaiting Vendor": "4",
    "Awaiting Evidence": "1",
}


@dataclass(frozen=True)
class AgentAction:
    """Field values to write (create when `create` is set), and journal entries to add."""

    create: bool
    fields: dict[str, Any]
    work_notes: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)


def _person_email(label: str | None) -> str | None:
    """`Resolver 149` -> `resolver.149@example.com`; the log's labels are anonymised already."""
    if label is None:
        return None
    return ".".join(label.lower().split()) + "@example.com"


def _fields(event: IncidentEvent) -> dict[str, Any]:
    state = _STATE.get(event.state)
    fields: dict[str, Any] = {
        "short_description": f"{event.symptom or 'Incident'} at {event.location or 'an unknown location'}",
        "description": (
            f"Opened by {event.caller or 'an unknown caller'} via {event.contact_type or 'an unknown channel'}. "
            f"{event.category or 'No category'} / {event.subcategory or 'no subcategory'}."
        ),
        "impact": event.impact,
        "urgency": event.urgency,
        "category": event.category or "",
        "subcategory": event.subcategory or "",
        "assignment_group": event.assignment_group or "",
        "assigned_to": _person_email(event.assigned_to) or "",
        "caller_id": _person_email(event.caller) or "",
    }
    if state is not None:
        fields["state"] = state
        fields["hold_reason"] = _HOLD_REASON.get(event.state, "")
    if state in ("6", "7"):
        fields["close_code"] = event.closed_code or "code 0"
        fields["close_notes"] = f"Resolved by {event.resolved_by or 'the service desk'}."
    return fields


def actions_for(event: IncidentEvent, previous: IncidentEvent | None) -> AgentAction:
    """Return what the L1 agent does for `event`, given the incident's previous event."""
    fields = _fields(event)
    if previous is None:
        return AgentAction(create=True, fields=fields)

    before = _fields(previous)
    changed = {name: value for name, value in fields.items() if before.get(name) != value}
    notes: list[str] = []
    comments: list[str] = []
    if "assignment_group" in changed and event.assignment_group:
        notes.append(
            f"Reassigned to {event.assignment_group} (reassignment from {previous.assignment_group})."
        )
    if event.state == "Awaiting User Info" and previous.state != event.state:
        comments.append(
            "We need more information from you to continue. Please reply to this incident."
        )
    return AgentAction(create=False, fields=changed, work_notes=notes, comments=comments)
