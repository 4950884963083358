"""Build logged incident updates by hand, in the shape the shipped event log has."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from tierbridge.core.demo.dataset import IncidentEvent, IncidentHistory

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
