"""The scenario's people: an L1 agent replaying the log, and scripted higher-tier agents.

Every person acts through a `Desk`, so the same scripts work whichever system serves a
tier. The higher-tier agents find their tickets through the correlation key that
tierbridge writes on each ticket it creates (`<connector>:<source ticket id>`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tierbridge.core.demo.actors import L2_INTERNAL_NOTE, L2_PUBLIC_REPLY, L2_RESOLUTION_REPLY
from tierbridge.core.demo.cases import TicketValues, journal_for
from tierbridge.core.demo.desks import Desk
from tierbridge.core.demo.files import DemoFile, attach, attach_customer_logs, diagnostic_report
from tierbridge.core.demo.sampling import PlannedCase
from tierbridge.core.model import Tier

__all__ = ["AgentTexts", "L1Desk", "TierAgent", "texts_for"]

#: The group whose assignment hands a ticket from L2 to L3 (the `hand-to-vendor` rule).
HAND_ON_GROUP = "Vendor L3"


@dataclass(frozen=True)
class AgentTexts:
    """The texts one tier's agent writes: a public reply, an internal note, a resolution reply."""

    reply: str
    note: str
    resolution: str


_TEXTS = {
    Tier.L2: AgentTexts(L2_PUBLIC_REPLY, L2_INTERNAL_NOTE, L2_RESOLUTION_REPLY),
    Tier.L3: AgentTexts(
        "L3 support here: the vendor team has taken this over.",
        "Internal: the vendor confirmed a defect in the current release.",
        "The vendor's fix is installed. Please confirm that it works for you.",
    ),
}


def texts_for(tier: Tier) -> AgentTexts:
    """Return what the scripted agent of `tier` (L2 or L3) writes."""
    return _TEXTS[tier]


@dataclass
class L1Desk:
    """Replays the planned updates on the L1 system as the L1 agent."""

    desk: Desk
    ids: dict[str, str] = field(default_factory=dict)
    journal_written: int = 0
    #: The file attached to each ticket by `attach_customer_logs`, by log number.
    files: dict[str, DemoFile] = field(default_factory=dict)

    def apply(self, planned: PlannedCase, index: int) -> None:
        """Make the calls of one logged update: create, or write what changed, and comment."""
        update = planned.replay[index]
        previous = planned.replay[index - 1] if index else None
        if previous is None:
            self.ids[planned.number] = self.desk.open(update.values)
            return

        ticket_id = self.ids[planned.number]
        notes, comments = journal_for(update, previous)
        changes = update.values.changed_from(previous.values)
        if self.desk.public_comment_notifies:
            self._change(ticket_id, changes)
        for note in notes:
            self.desk.comment(ticket_id, note, public=False)
        for text in comments:
            self.desk.comment(ticket_id, text, public=True)
        if not self.desk.public_comment_notifies:
            # The change's webhook makes the daemon read the comments written just before.
            self._change(ticket_id, changes)
        self.journal_written += len(notes) + len(comments)

    def _change(self, ticket_id: str, changes: TicketValues) -> None:
        if not changes.is_empty():
            self.desk.change(ticket_id, changes)

    def attach_customer_logs(self, sample: list[PlannedCase]) -> None:
        """Attach the customer's log to every third escalating ticket, after the replay."""
        self.files.update(attach_customer_logs(self.desk, sample, self.ids))


@dataclass
class TierAgent:
    """Works one tier's tickets: takes each, replies, notes, attaches a diagnostic report,
    and resolves or hands on."""

    desk: Desk
    tier: Tier
    #: The connector of the tier below, whose ticket ids the correlation keys name.
    lower_connector: str
    #: The planned case behind each ticket id of the tier below.
    below: dict[str, PlannedCase]
    #: The planned case behind each ticket of this tier, by ticket id; filled by `take_all`.
    mine: dict[str, PlannedCase] = field(default_factory=dict)
    resolved: set[str] = field(default_factory=set)
    handed_on: set[str] = field(default_factory=set)
    comments_written: int = 0
    #: The diagnostic report attached to each ticket of this tier, by ticket id.
    files: dict[str, DemoFile] = field(default_factory=dict)

    @property
    def texts(self) -> AgentTexts:
        return texts_for(self.tier)

    def take_all(self) -> None:
        """Take each new ticket, reply publicly, leave an internal note and attach a report."""
        prefix = f"{self.lower_connector}:"
        for seen in self.desk.tickets():
            planned = self.below.get(seen.correlation.removeprefix(prefix))
            if seen.id in self.mine or planned is None or not seen.correlation.startswith(prefix):
                continue
            self.mine[seen.id] = planned
            self.desk.take(seen.id)
            self.desk.comment(seen.id, self.texts.reply, public=True)
            self.desk.comment(seen.id, self.texts.note, public=False)
            self.comments_written += 2
            self.files[seen.id] = diagnostic_report(self.tier, seen.key)
            attach(self.desk, seen.id, self.files[seen.id])

    def finish(self, *, hand_on: bool) -> None:
        """Resolve the tickets this tier resolves; with `hand_on`, hand the L3 ones on."""
        for ticket_id, planned in self.mine.items():
            if hand_on and planned.hands_on and ticket_id not in self.handed_on:
                self.desk.hand_on(ticket_id, HAND_ON_GROUP)
                self.handed_on.add(ticket_id)
            elif planned.resolved_by is self.tier and ticket_id not in self.resolved:
                self.desk.comment(ticket_id, self.texts.resolution, public=True)
                self.desk.resolve(ticket_id, "Corrected the configuration.")
                self.comments_written += 1
                self.resolved.add(ticket_id)
