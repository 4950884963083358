"""The demo's two humans: an L1 agent replaying the log in ServiceNow, an L2 agent in JSM."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from tierbridge.core.demo.dataset import IncidentEvent
from tierbridge.core.demo.desks import Desk
from tierbridge.core.demo.files import DemoFile, attach, diagnostic_report
from tierbridge.core.demo.plan import PlannedIncident
from tierbridge.core.demo.replay import actions_for
from tierbridge.core.model import Tier
from tierbridge.emulators.jira.agent import JiraAgent
from tierbridge.emulators.servicenow.agent import ServiceNowAgent
from tierbridge.emulators.servicenow.state import ServiceNowState

__all__ = ["L1Replay", "L2Agent", "replay_batches"]

L2_PUBLIC_REPLY = "L2 support here: we have taken this over and are working on it."
L2_INTERNAL_NOTE = "Internal: reproduced on the test bench, the fix is a configuration change."
L2_RESOLUTION_REPLY = "The configuration was corrected. Please confirm that it works for you."


def replay_batches(sample: list[PlannedIncident]) -> Iterator[list[tuple[PlannedIncident, int]]]:
    """Yield the sample's events in time order, in batches holding each incident at most once.

    Events of one batch touch different incidents, so the daemon may handle them in any order;
    the caller lets the daemon settle between batches, which keeps every replay deterministic.
    """
    timeline = sorted(
        (
            (event.updated_at, planned.number, index, planned)
            for planned in sample
            for index, event in enumerate(planned.replay)
        ),
        key=lambda item: (item[0], item[1], item[2]),
    )
    batch: list[tuple[PlannedIncident, int]] = []
    in_batch: set[str] = set()
    for _, number, index, planned in timeline:
        if number in in_batch:
            yield batch
            batch, in_batch = [], set()
        batch.append((planned, index))
        in_batch.add(number)
    if batch:
        yield batch


@dataclass
class L1Replay:
    """Replays logged incident updates on the ServiceNow emulator as the L1 agent."""

    agent: ServiceNowAgent
    directory: ServiceNowState
    sys_ids: dict[str, str] = field(default_factory=dict)
    journal_written: int = 0

    def apply(self, planned: PlannedIncident, index: int) -> None:
        event = planned.replay[index]
        previous = planned.replay[index - 1] if index else None
        self._ensure_people(event)
        action = actions_for(event, previous)
        fields = self._as_display_values(action.fields)
        if action.create:
            created = self.agent.create_incident(**fields)
            self.sys_ids[planned.number] = created["sys_id"]
        elif fields:
            self.agent.update_incident(self.sys_ids[planned.number], **fields)
        for note in action.work_notes:
            self.agent.add_comment(self.sys_ids[planned.number], note, internal=True)
        for comment in action.comments:
            self.agent.add_comment(self.sys_ids[planned.number], comment, internal=False)
        self.journal_written += len(action.work_notes) + len(action.comments)

    def _ensure_people(self, event: IncidentEvent) -> None:
        """Create the groups and users an event names, as an admin's directory import would."""
        if event.assignment_group:
            self.directory.ensure_group(event.assignment_group)
        for person in (event.assigned_to, event.caller):
            if person:
                self.directory.ensure_user(person)

    def _as_display_values(self, fields: dict[str, str]) -> dict[str, str]:
        """The agent types names, not e-mail addresses, into reference fields."""
        converted = dict(fields)
        for name in ("assigned_to", "caller_id"):
            email = converted.get(name)
            if email:
                converted[name] = self.directory.ensure_user(email)["name"]
        return converted


@dataclass
class L2Agent:
    """Works the escalated requests in JSM: takes each one, replies, attaches a report when it
    has a `desk`, and resolves some."""

    agent: JiraAgent
    project: str
    handled: set[str] = field(default_factory=set)
    resolved: set[str] = field(default_factory=set)
    comments_written: int = 0
    #: The desk through which the agent attaches a diagnostic report to each request it
    #: takes over; None attaches no file.
    desk: Desk | None = None
    #: The report attached to each request, by issue key.
    files: dict[str, DemoFile] = field(default_factory=dict)

    def work(self, resolve: dict[str, bool]) -> None:
        """Handle each request not handled yet; `resolve` says, per correlation key, whether to resolve."""
        for issue in self.agent.search(f"project = {self.project} ORDER BY key ASC"):
            key = issue["key"]
            if key in self.handled:
                continue
            if issue["fields"]["status"]["name"] != "In Progress":
                self.agent.transition_to(key, "In Progress")
            self.agent.add_comment(key, L2_PUBLIC_REPLY, public=True)
            self.agent.add_comment(key, L2_INTERNAL_NOTE, public=False)
            self.comments_written += 2
            if self.desk is not None:
                self.files[key] = diagnostic_report(Tier.L2, key)
                attach(self.desk, key, self.files[key])
            correlation = issue["fields"].get("customfield_10060") or ""
            if resolve.get(correlation, False):
                self.agent.add_comment(key, L2_RESOLUTION_REPLY, public=True)
                self.agent.transition_to(key, "Resolved", resolution="Done")
                self.comments_written += 1
                self.resolved.add(key)
            self.handled.add(key)
