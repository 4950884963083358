"""Check the demo's outcome by reading both emulators, as the agents would see it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tierbridge.connectors.jira.adf import adf_to_text
from tierbridge.core.demo.actors import (
    L2_INTERNAL_NOTE,
    L2_PUBLIC_REPLY,
    L2_RESOLUTION_REPLY,
    L1Replay,
    L2Agent,
)
from tierbridge.core.demo.desks import Desk
from tierbridge.core.demo.files import DemoFile, LinkedTicket, check_files
from tierbridge.core.demo.plan import PlannedIncident
from tierbridge.core.model import Tier
from tierbridge.emulators.jira.agent import JiraAgent
from tierbridge.emulators.servicenow.agent import ServiceNowAgent

__all__ = ["FileSides", "Outcome", "verify"]

_SNOW_CONNECTOR = "snow"
_CORRELATION_FIELD = "customfield_10060"


@dataclass
class Outcome:
    """What both systems hold at the end, and every expectation they failed."""

    escalated: int = 0
    resolved_back: int = 0
    comments_to_l2: int = 0
    comments_to_l1: int = 0
    #: Files confirmed once with the same bytes, per tier of the ticket holding them.
    files: Counter[Tier] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class FileSides:
    """The desks that read each side's files, and the logs the L1 agent attached."""

    snow: Desk
    jira: Desk
    #: The customer's log attached to the L1 ticket, by log number.
    customer_logs: Mapping[str, DemoFile]


def verify(
    sample: list[PlannedIncident],
    l1: L1Replay,
    l2: L2Agent,
    snow: ServiceNowAgent,
    jira: JiraAgent,
    sides: FileSides,
) -> Outcome:
    """Compare both emulators with the plan: escalations, links, resolutions, comments, files."""
    outcome = Outcome()
    issues = jira.search(f"project = {l2.project} ORDER BY key ASC")
    by_correlation = _index_by_correlation(issues, outcome)

    for planned in sample:
        sys_id = l1.sys_ids.get(planned.number)
        if sys_id is None:
            outcome.problems.append(f"{planned.number} was never created in ServiceNow")
            continue
        key = by_correlation.get(f"{_SNOW_CONNECTOR}:{sys_id}")
        if not planned.escalates:
            if key is not None:
                outcome.problems.append(
                    f"{planned.number} stayed at L1 in the log but has JSM request {key}"
                )
            continue
        if key is None:
            outcome.problems.append(
                f"{planned.number} should have escalated ({planned.escalation_reason})"
            )
            continue
        outcome.escalated += 1
        _check_pair(planned, sys_id, key, l2, snow, jira, outcome)
        _check_files(planned, sys_id, key, l2, sides, outcome)
    return outcome


def _index_by_correlation(issues: list[dict[str, Any]], outcome: Outcome) -> dict[str, str]:
    counts = Counter(issue["fields"].get(_CORRELATION_FIELD) for issue in issues)
    for correlation, count in counts.items():
        if count > 1:
            outcome.problems.append(
                f"{count} JSM requests carry correlation {correlation}: duplicates"
            )
    return {
        issue["fields"][_CORRELATION_FIELD]: issue["key"]
        for issue in issues
        if issue["fields"].get(_CORRELATION_FIELD)
    }


def _check_pair(
    planned: PlannedIncident,
    sys_id: str,
    key: str,
    l2: L2Agent,
    snow: ServiceNowAgent,
    jira: JiraAgent,
    outcome: Outcome,
) -> None:
    incident = snow.get_incident(sys_id)
    if incident.get("correlation_id") != key:
        outcome.problems.append(
            f"{planned.number} correlation_id is {incident.get('correlation_id')!r}, not {key}"
        )

    if key in l2.resolved:
        if incident.get("state") == "6" and incident.get("close_notes"):
            outcome.resolved_back += 1
        else:
            outcome.problems.append(
                f"{key} was resolved in JSM but {planned.number} has state {incident.get('state')}"
            )

    journal = snow.list_journal(sys_id)
    comments = jira.get_issue(key)["fields"]["comment"]["comments"]
    _check_l1_to_l2(planned, journal, comments, outcome)
    _check_l2_to_l1(planned, key, l2, journal, outcome)


def _check_files(
    planned: PlannedIncident,
    sys_id: str,
    key: str,
    l2: L2Agent,
    sides: FileSides,
    outcome: Outcome,
) -> None:
    """Check that the files attached on either side are on both tickets once."""
    tickets = [
        LinkedTicket(Tier.L1, sides.snow, sys_id, sides.snow.read(sys_id).key),
        LinkedTicket(Tier.L2, sides.jira, key, key),
    ]
    files = [sides.customer_logs.get(planned.number), l2.files.get(key)]
    attached = [file for file in files if file is not None]
    outcome.files.update(check_files(planned.number, tickets, attached, outcome.problems))


def _check_l1_to_l2(
    planned: PlannedIncident,
    journal: list[dict[str, Any]],
    comments: list[dict[str, Any]],
    outcome: Outcome,
) -> None:
    copies = [(adf_to_text(item["body"]) or "", item["jsdPublic"]) for item in comments]
    for entry in journal:
        if entry.get("sys_created_by") != "agent.l1":
            continue
        public = entry["element"] == "comments"
        matches = [
            text for text, is_public in copies if entry["value"] in text and is_public == public
        ]
        if len(matches) == 1:
            outcome.comments_to_l2 += 1
        else:
            outcome.problems.append(
                f"{planned.number} {entry['element']} entry found {len(matches)} times in JSM with the same visibility"
            )


def _check_l2_to_l1(
    planned: PlannedIncident, key: str, l2: L2Agent, journal: list[dict[str, Any]], outcome: Outcome
) -> None:
    expected = [(L2_PUBLIC_REPLY, "comments"), (L2_INTERNAL_NOTE, "work_notes")]
    if key in l2.resolved:
        expected.append((L2_RESOLUTION_REPLY, "comments"))
    for text, element in expected:
        matches = [
            entry for entry in journal if text in entry["value"] and entry["element"] == element
        ]
        if len(matches) == 1:
            outcome.comments_to_l1 += 1
        else:
            outcome.problems.append(
                f"{planned.number}: L2 {element} entry found {len(matches)} times in ServiceNow"
            )
