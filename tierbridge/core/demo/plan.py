"""Choose the incidents a demo replays and work out, from the log alone, what must happen.

The expected outcome is computed without the daemon, so the demo can check the daemon's
work against it: which incidents escalate to L2 and why, which events ServiceNow replays,
and which escalated incidents the scripted L2 agent resolves.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from tierbridge.core.demo.dataset import IncidentEvent, IncidentHistory

__all__ = ["DEFAULT_SAMPLE_SIZE", "PlannedIncident", "choose_sample"]

#: Incidents replayed by `tierbridge demo` without `--incidents`; sized to finish in minutes.
DEFAULT_SAMPLE_SIZE = 24

_FINAL_STATES = {"Resolved", "Closed", "-100"}


@dataclass(frozen=True)
class PlannedIncident:
    """One incident of the sample with its expected outcome."""

    history: IncidentHistory
    escalation_reason: str | None
    replay: tuple[IncidentEvent, ...]
    l2_resolves: bool

    @property
    def number(self) -> str:
        return self.history.number

    @property
    def escalates(self) -> bool:
        return self.escalation_reason is not None


def escalation_reason(
    event: IncidentEvent, priorities: Collection[str], groups: Collection[str]
) -> str | None:
    """Return why this event's values escalate the incident, or None (same rule as the daemon)."""
    if event.state in _FINAL_STATES:
        return None
    if f"P{event.priority}" in priorities:
        return f"priority P{event.priority}"
    if event.assignment_group in groups:
        return f"group {event.assignment_group}"
    return None


def plan_incident(
    history: IncidentHistory, priorities: Collection[str], groups: Collection[str], index: int
) -> PlannedIncident:
    """Work out one incident's replay and expected outcome.

    An escalated incident is replayed on ServiceNow only up to its first resolution: from
    then on the L2 team owns the outcome, and the scripted agent resolves two in three.
    """
    reason = None
    replay: list[IncidentEvent] = []
    for event in history.events:
        if reason is not None and event.state in _FINAL_STATES:
            break
        replay.append(event)
        reason = reason or escalation_reason(event, priorities, groups)
    return PlannedIncident(
        history, reason, tuple(replay), l2_resolves=reason is not None and index % 3 != 2
    )


def choose_sample(
    histories: Iterable[IncidentHistory],
    size: int,
    priorities: Collection[str],
    groups: Collection[str],
) -> list[PlannedIncident]:
    """Take the first incidents of the log, a third escalating by priority, a third by group,
    a third staying at L1, so that each path runs in every demo."""
    quota = {"priority": size // 3, "group": size // 3}
    quota["none"] = size - quota["priority"] - quota["group"]
    taken = {kind: 0 for kind in quota}
    chosen: list[PlannedIncident] = []
    escalated = 0
    for history in histories:
        if len(history.events) < 2:
            continue
        planned = plan_incident(history, priorities, groups, escalated)
        kind = (planned.escalation_reason or "none").split(" ", 1)[0]
        if taken[kind] >= quota[kind]:
            continue
        taken[kind] += 1
        escalated += planned.escalates
        chosen.append(planned)
        if len(chosen) == size:
            break
    return chosen
