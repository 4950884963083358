"""Read the ServiceNow incident event log shipped in `data/` into per-incident histories.

The log (UCI "Incident management process enriched event log", CC BY 4.0) has one row per
update of an incident, with anonymised labels such as `Group 56` and `Caller 2403`, times
as `d/m/yyyy HH:MM` without a zone, and `?` for a missing value.
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

__all__ = ["DATASET_PATH", "IncidentEvent", "IncidentHistory", "read_histories"]

#: The project's copy of the log; `data/README.md` gives its origin and licence.
DATASET_PATH = (
    Path(__file__).resolve().parents[3]
    / "data"
    / "servicenow-incident-event-log"
    / "incident_event_log.csv.gz"
)


@dataclass(frozen=True)
class IncidentEvent:
    """One row of the log: the incident's values after one update."""

    number: str
    state: str
    sys_mod_count: int
    updated_at: datetime
    caller: str | None
    contact_type: str | None
    location: str | None
    category: str | None
    subcategory: str | None
    symptom: str | None
    impact: str
    urgency: str
    priority: str
    assignment_group: str | None
    assigned_to: str | None
    closed_code: str | None
    resolved_by: str | None


@dataclass(frozen=True)
class IncidentHistory:
    """Every event of one incident, in update order."""

    number: str
    events: tuple[IncidentEvent, ...]


def _value(raw: str) -> str | None:
    return None if raw in ("?", "") else raw


def _time(raw: str) -> datetime:
    # NOTE: the log gives no time zone; it is read as UTC, which only shifts every time equally.
    return datetime.strptime(raw, "%d/%m/%Y %H:%M").replace(tzinfo=UTC)


def _event(row: dict[str, str]) -> IncidentEvent:
    return IncidentEvent(
        number=row["number"],
        state=row["incident_state"],
        sys_mod_count=int(row["sys_mod_count"]),
        updated_at=_time(row["sys_updated_at"]),
        caller=_value(row["caller_id"]),
        contact_type=_value(row["contact_type"]),
        location=_value(row["location"]),
        category=_value(row["category"]),
        subcategory=_value(row["subcategory"]),
        symptom=_value(row["u_symptom"]),
        impact=row["impact"].split(" ", 1)[0],
        urgency=row["urgency"].split(" ", 1)[0],
        priority=row["priority"].split(" ", 1)[0],
        assignment_group=_value(row["assignment_group"]),
        assigned_to=_value(row["assigned_to"]),
        closed_code=_value(row["closed_code"]),
        resolved_by=_value(row["resolved_by"]),
    )


def read_histories(path: Path = DATASET_PATH) -> Iterator[IncidentHistory]:
    """Yield each incident's history in file order; rows of one incident are contiguous."""
    with gzip.open(path, "rt", newline="", encoding="utf-8") as handle:
        current: list[IncidentEvent] = []
        for row in csv.DictReader(handle):
            event = _event(row)
            if current and current[0].number != event.number:
                yield _history(current)
                current = []
            current.append(event)
        if current:
            yield _history(current)


def _history(events: list[IncidentEvent]) -> IncidentHistory:
    ordered = sorted(events, key=lambda e: (e.sys_mod_count, e.updated_at))
    return IncidentHistory(number=ordered[0].number, events=tuple(ordered))
