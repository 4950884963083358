"""Check a scenario's outcome by reading every system back through the agents' desks.

For each planned ticket the checks confirm five things. It escalated exactly when the plan
expects, once, with the keys cross-referenced both ways. The L2 team's hand-off created one
L3 ticket. A resolution in a higher tier came back down. Every comment crossed each link
once, with its visibility kept. Every file an agent attached is on each linked ticket once,
with the same bytes.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from tierbridge.core.demo.desks import Desk, Entry, Seen
from tierbridge.core.demo.files import DemoFile, LinkedTicket, check_files
from tierbridge.core.demo.sampling import PlannedCase
from tierbridge.core.demo.teams import L1Desk, TierAgent
from tierbridge.core.model import Tier

__all__ = ["Outcome", "Tiers", "check_outcome"]


@dataclass
class Outcome:
    """The systems' final state: counts of confirmed syncs, and every failed expectation."""

    escalated: int = 0
    handed_on: int = 0
    resolved_back: int = 0
    comments_up: int = 0
    comments_down: int = 0
    #: Files confirmed once with the same bytes, per tier of the ticket holding them.
    files: Counter[Tier] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Tiers:
    """The people of one run: the L1 replay, and the L2 and (optional) L3 agents."""

    l1: L1Desk
    l1_connector: str
    l2: TierAgent
    l3: TierAgent | None = None


def check_outcome(sample: list[PlannedCase], tiers: Tiers) -> Outcome:
    """Compare every system with the plan."""
    outcome = Outcome()
    upper = {seen.key: seen for seen in tiers.l2.desk.tickets()}
    top = {seen.key: seen for seen in tiers.l3.desk.tickets()} if tiers.l3 else {}
    _count_tickets("L2", upper, sum(p.escalates for p in sample), outcome)
    _count_tickets("L3", top, sum(p.hands_on for p in sample), outcome)

    for planned in sample:
        l1_id = tiers.l1.ids.get(planned.number)
        if l1_id is None:
            outcome.problems.append(f"{planned.number} was never opened at L1")
            continue
        _check_case(planned, l1_id, upper, top, tiers, outcome)
    return outcome


def _count_tickets(tier: str, tickets: dict[str, Seen], expected: int, outcome: Outcome) -> None:
    if len(tickets) != expected:
        outcome.problems.append(f"{tier} has {len(tickets)} tickets; the plan escalates {expected}")
    for correlation, count in Counter(s.correlation for s in tickets.values()).items():
        if count > 1:
            outcome.problems.append(f"{count} {tier} tickets carry {correlation}: duplicates")


def _check_case(
    planned: PlannedCase,
    l1_id: str,
    upper: dict[str, Seen],
    top: dict[str, Seen],
    tiers: Tiers,
    outcome: Outcome,
) -> None:
    own = tiers.l1.desk.read(l1_id)
    l2 = upper.get(own.correlation)
    if not planned.escalates:
        if l2 is not None or any(
            s.correlation == f"{tiers.l1_connector}:{l1_id}" for s in upper.values()
        ):
            outcome.problems.append(f"{planned.number} stayed at L1 in the log but reached L2")
        return
    if l2 is None:
        outcome.problems.append(
            f"{planned.number} should have escalated ({planned.escalation_reason}); "
            f"its L1 ticket {own.key} names {own.correlation or 'no L2 ticket'}"
        )
        return
    outcome.escalated += 1

    l3 = _check_hand_on(planned, l2, top, tiers, outcome)
    if l3 is None and l2.correlation != f"{tiers.l1_connector}:{l1_id}":
        outcome.problems.append(
            f"L2 ticket {l2.key} carries {l2.correlation!r}, not {own.key}'s id"
        )
    _check_resolution(planned, own, l2, l3, outcome)
    _check_comments(planned, own, l2, l3, tiers, outcome)
    _check_files(planned, own, l2, l3, tiers, outcome)


def _check_hand_on(
    planned: PlannedCase, l2: Seen, top: dict[str, Seen], tiers: Tiers, outcome: Outcome
) -> Seen | None:
    """Return the L3 ticket of a handed-on case, checking its link to the L2 ticket."""
    if not planned.hands_on or tiers.l3 is None:
        return None
    l3 = top.get(l2.correlation)
    expected = f"{tiers.l3.lower_connector}:{l2.id}"
    if l3 is None or l3.correlation != expected:
        outcome.problems.append(
            f"{planned.number}: L2 ticket {l2.key} was handed on, but no L3 ticket carries {expected}"
        )
        return None
    outcome.handed_on += 1
    return l3


def _check_resolution(
    planned: PlannedCase, own: Seen, l2: Seen, l3: Seen | None, outcome: Outcome
) -> None:
    if planned.resolved_by is None:
        return
    if planned.resolved_by is Tier.L3 and l3 is not None and not l2.resolved:
        outcome.problems.append(f"L3 resolved {l3.key} but L2 ticket {l2.key} is {l2.status}")
    if own.resolved:
        outcome.resolved_back += 1
    else:
        outcome.problems.append(
            f"{planned.resolved_by} resolved {planned.number} but its L1 ticket {own.key} is {own.status}"
        )


def _check_comments(
    planned: PlannedCase, own: Seen, l2: Seen, l3: Seen | None, tiers: Tiers, outcome: Outcome
) -> None:
    l1_journal = tiers.l1.desk.journal(own.id)
    l2_journal = tiers.l2.desk.journal(l2.id)
    originals = [entry for entry in l1_journal if not entry.is_copy]
    outcome.comments_up += _expect_once(planned, originals, l2_journal, f"L2 {l2.key}", outcome)

    written = [_written(tiers.l2, planned.resolved_by is Tier.L2 and l3 is None)]
    if l3 is not None and tiers.l3 is not None:
        written.append(_written(tiers.l3, planned.resolved_by is Tier.L3))
        l2_copies = _expect_once(planned, written[1], l2_journal, f"L2 {l2.key}", outcome)
        outcome.comments_down += l2_copies
    for entries in written:
        outcome.comments_down += _expect_once(
            planned, entries, l1_journal, f"L1 {own.key}", outcome
        )


def _written(agent: TierAgent, resolved: bool) -> list[Entry]:
    texts = agent.texts
    entries = [Entry(texts.reply, public=True), Entry(texts.note, public=False)]
    if resolved:
        entries.append(Entry(texts.resolution, public=True))
    return entries


def _check_files(
    planned: PlannedCase, own: Seen, l2: Seen, l3: Seen | None, tiers: Tiers, outcome: Outcome
) -> None:
    """Check that every file attached in the chain is on each of its tickets once."""
    tickets = [
        LinkedTicket(Tier.L1, tiers.l1.desk, own.id, own.key),
        LinkedTicket(Tier.L2, tiers.l2.desk, l2.id, l2.key),
    ]
    files: list[DemoFile | None] = [tiers.l1.files.get(planned.number), tiers.l2.files.get(l2.id)]
    if l3 is not None and tiers.l3 is not None:
        tickets.append(LinkedTicket(Tier.L3, tiers.l3.desk, l3.id, l3.key))
        files.append(tiers.l3.files.get(l3.id))
    attached = [file for file in files if file is not None]
    outcome.files.update(check_files(planned.number, tickets, attached, outcome.problems))


def _expect_once(
    planned: PlannedCase, wanted: list[Entry], journal: list[Entry], where: str, outcome: Outcome
) -> int:
    """Count the `wanted` entries found in `journal` once each, with the same visibility.

    An entry written n times (the same question asked twice) must be found n times.
    """
    found = 0
    for (text, public), times in Counter((e.text, e.public) for e in wanted).items():
        matches = [item for item in journal if text in item.text and item.public == public]
        if len(matches) == times:
            found += times
            continue
        visibility = "public" if public else "internal"
        outcome.problems.append(
            f"{planned.number}: {visibility} entry {text[:40]!r} written {times} times, "
            f"found {len(matches)} times in {where}"
        )
    return found


def close_desks(*desks: Desk | None) -> None:
    """Close every desk given."""
    for desk in desks:
        if desk is not None:
            desk.close()
