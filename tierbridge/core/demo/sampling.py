"""Choose the tickets a scenario replays and work out, from the log alone, what must happen.

The expected outcome is computed without the daemon, so the scenario can check the
daemon's work against it. The plan lists which tickets escalate to L2 and why, which the L2
team hands on to L3, which updates the L1 agent replays, and which tier resolves each.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from tierbridge.core.demo.cases import CaseLog, CaseUpdate, journal_for
from tierbridge.core.model import Tier

__all__ = [
    "MAX_REPLAYED_UPDATES",
    "Decide",
    "PlannedCase",
    "choose_cases",
    "plan_case",
    "replay_order",
]

#: Returns why an update's values escalate the ticket to L2, or None.
Decide = Callable[[CaseUpdate], "str | None"]

#: The support line at which the log's own teams work as a third line.
_THIRD_LINE = "L3"
#: Updates replayed per ticket at most. Long histories (the Volvo log has up to 100 rows per
#: request) are cut, so that a scenario's default sample runs in well under a minute.
MAX_REPLAYED_UPDATES = 8


@dataclass(frozen=True)
class PlannedCase:
    """One ticket of the sample with its expected outcome."""

    log: CaseLog
    escalation_reason: str | None
    replay: tuple[CaseUpdate, ...]
    #: Whether the L2 agent hands the ticket on to L3 (three-tier scenarios only).
    hands_on: bool
    #: The tier whose scripted agent resolves the ticket, or None if no agent resolves it.
    resolved_by: Tier | None

    @property
    def number(self) -> str:
        return self.log.number

    @property
    def escalates(self) -> bool:
        return self.escalation_reason is not None

    @property
    def kind(self) -> str:
        """`l3`, `l2` or `l1`: the highest tier the ticket reaches."""
        if not self.escalates:
            return "l1"
        return "l3" if self.hands_on else "l2"


def plan_case(log: CaseLog, decide: Decide, *, index: int, three_tiers: bool) -> PlannedCase:
    """Work out one ticket's replay and expected outcome.

    An escalated ticket is replayed on L1 only up to its first resolution: from then on the
    higher tiers own the outcome. In a three-tier scenario the L2 team hands a ticket on
    when the log shows a third-line team working on it. The highest tier it reaches
    resolves two in three (`index` counts the escalated tickets planned before this one).
    """
    reason = None
    replay: list[CaseUpdate] = []
    for update in _visible_updates(log.updates):
        if (reason is not None and update.status.is_final) or len(replay) == MAX_REPLAYED_UPDATES:
            break
        replay.append(update)
        reason = reason or decide(update)

    hands_on = (
        three_tiers
        and reason is not None
        and any(update.line == _THIRD_LINE for update in log.updates)
    )
    resolved_by = None
    if reason is not None and index % 3 != 2:
        resolved_by = Tier.L3 if hands_on else Tier.L2
    return PlannedCase(log, reason, tuple(replay), hands_on, resolved_by)


def _visible_updates(updates: tuple[CaseUpdate, ...]) -> Iterator[CaseUpdate]:
    """Yield the updates an agent would notice: those that change a value or the journal."""
    previous = None
    for update in updates:
        notes, comments = journal_for(update, previous)
        if previous is None or update.values != previous.values or notes or comments:
            yield update
            previous = update


def choose_cases(
    logs: Iterable[CaseLog], size: int, decide: Decide, *, three_tiers: bool
) -> list[PlannedCase]:
    """Take the first tickets of the log so that each path runs in every scenario.

    Two tiers: half escalate, half stay at L1. Three tiers: a third each reach L3, stay at
    L2, and stay at L1.
    """
    kinds = ("l3", "l2", "l1") if three_tiers else ("l2", "l1")
    quota = {kind: size // len(kinds) for kind in kinds}
    quota["l1"] += size - sum(quota.values())
    taken = dict.fromkeys(kinds, 0)

    chosen: list[PlannedCase] = []
    escalated = 0
    for log in logs:
        if len(log.updates) < 2:
            continue
        planned = plan_case(log, decide, index=escalated, three_tiers=three_tiers)
        if taken[planned.kind] >= quota[planned.kind]:
            continue
        taken[planned.kind] += 1
        escalated += planned.escalates
        chosen.append(planned)
        if len(chosen) == size:
            break
    return chosen


def replay_order(sample: list[PlannedCase]) -> Iterator[list[tuple[PlannedCase, int]]]:
    """Yield the sample's updates in time order, in batches holding each ticket at most once.

    Updates of one batch touch different tickets, so the order in which the daemon handles
    them does not change the result. The caller lets the daemon settle between batches.
    """
    timeline = sorted(
        (
            (update.at, planned.number, index, planned)
            for planned in sample
            for index, update in enumerate(planned.replay)
        ),
        key=lambda item: (item[0], item[1], item[2]),
    )
    batch: list[tuple[PlannedCase, int]] = []
    in_batch: set[str] = set()
    for _, number, index, planned in timeline:
        if number in in_batch:
            yield batch
            batch, in_batch = [], set()
        batch.append((planned, index))
        in_batch.add(number)
    if batch:
        yield batch
