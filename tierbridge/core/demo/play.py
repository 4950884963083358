"""Run one scenario end to end: plan, replay at L1, let the higher tiers work, check.

The L1 agent replays the sample's updates in logged time order, and the daemon settles
after each batch. The L1 agent then attaches a customer's log to every third escalated
ticket. Then the scripted L2 agent takes, replies to, notes and attaches a report to every
escalated ticket, resolves some and, in a three-tier scenario, hands some on to L3, whose
agent does the same. Finally every system is read back and compared with the plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tierbridge.core.config import load_config
from tierbridge.core.connector import NativeRecord
from tierbridge.core.demo.cases import CaseUpdate
from tierbridge.core.demo.checks import Outcome, Tiers, check_outcome, close_desks
from tierbridge.core.demo.desks import Desk
from tierbridge.core.demo.multistack import EmulatedStack
from tierbridge.core.demo.sampling import Decide, PlannedCase, choose_cases, replay_order
from tierbridge.core.demo.scenarios import Scenario
from tierbridge.core.demo.teams import L1Desk, TierAgent
from tierbridge.core.demo.trails import format_trail
from tierbridge.core.model import Tier
from tierbridge.core.runtime import Runtime

__all__ = ["Played", "decider", "play"]


@dataclass
class Played:
    """A finished run: the sample, the outcome, and counts from the store."""

    scenario: Scenario
    sample: list[PlannedCase]
    outcome: Outcome
    actions: dict[str, int] = field(default_factory=dict)
    updates: int = 0
    trails: dict[str, list[str]] = field(default_factory=dict)


def decider(rt: Runtime, l1_connector: str, desk: Desk) -> Decide:
    """Return the `escalation.to_L2` decision for logged updates, as the daemon makes it.

    The priority is the one the L1 system reports back for what its desk writes, read
    through the connector's mapping, so a lossy picklist decides as it does in the daemon.
    Groups count only where the L1 mapping has an assignment group. NOTE: rules of the
    `rules:` section are not planned for; the scenario configs escalate through
    `escalation.to_L2` only.
    """
    rule = rt.config.escalation.to_L2
    mapper = rt.mappers[l1_connector]
    priorities = {str(priority) for priority in rule.priorities}
    groups = set(rule.assignment_groups) if mapper.maps("assignment_group") else set()

    def decide(update: CaseUpdate) -> str | None:
        if update.status.is_final:
            return None
        native = desk.native_priority(update.priority)
        record = NativeRecord(id="plan", key=None, version="0", updated=update.at, fields=native)
        reported = mapper.to_ticket(record).priority
        if reported is not None and str(reported) in priorities:
            return f"priority {reported}"
        if update.values.group in groups:
            return f"group {update.values.group}"
        return None

    return decide


def play(scenario: Scenario, workdir: Path, size: int) -> Played:
    """Run `scenario` with `size` tickets in `workdir`; return what happened."""
    stack = EmulatedStack.start(load_config(scenario.config), workdir)
    desks: list[Desk] = []
    try:
        l1_connector = stack.connector_for(Tier.L1)
        l1_desk = stack.desk(l1_connector, Tier.L1)
        desks.append(l1_desk)
        three_tiers = stack.runtime.connector_for_tier(Tier.L3) is not None
        decide = decider(stack.runtime, l1_connector, l1_desk)
        sample = choose_cases(scenario.read_logs(), size, decide, three_tiers=three_tiers)

        l1 = L1Desk(l1_desk)
        for batch in replay_order(sample):
            for planned, index in batch:
                l1.apply(planned, index)
            stack.settle()
        l1.attach_customer_logs(sample)
        stack.settle()

        tiers = _work_higher_tiers(stack, sample, l1, l1_connector, desks)
        outcome = check_outcome(sample, tiers)
        dead = stack.runtime.store.list_events(status="dead", limit=1000)
        outcome.problems.extend(
            f"event {e.id} ({e.connector} {e.ticket_id}) failed: {e.last_error}" for e in dead
        )
        return Played(
            scenario,
            sample,
            outcome,
            actions=stack.runtime.store.count_actions(),
            updates=sum(len(planned.replay) for planned in sample),
            trails=_trails(stack, sample, l1, l1_connector),
        )
    finally:
        close_desks(*desks)
        stack.stop()


def _work_higher_tiers(
    stack: EmulatedStack,
    sample: list[PlannedCase],
    l1: L1Desk,
    l1_connector: str,
    desks: list[Desk],
) -> Tiers:
    """Let the L2 agent, then the L3 agent, work their tickets; settle after each step."""
    l2_connector = stack.connector_for(Tier.L2)
    l3_connector = stack.runtime.connector_for_tier(Tier.L3)
    by_l1_id = {l1.ids[planned.number]: planned for planned in sample if planned.number in l1.ids}
    l2 = TierAgent(stack.desk(l2_connector, Tier.L2), Tier.L2, l1_connector, by_l1_id)
    desks.append(l2.desk)
    l2.take_all()
    stack.settle()
    l2.finish(hand_on=l3_connector is not None)
    stack.settle()
    if l3_connector is None:
        return Tiers(l1, l1_connector, l2)

    l3 = TierAgent(stack.desk(l3_connector, Tier.L3), Tier.L3, l2_connector, dict(l2.mine))
    desks.append(l3.desk)
    l3.take_all()
    stack.settle()
    l3.finish(hand_on=False)
    stack.settle()
    return Tiers(l1, l1_connector, l2, l3)


def _trails(
    stack: EmulatedStack, sample: list[PlannedCase], l1: L1Desk, l1_connector: str
) -> dict[str, list[str]]:
    """Return the sync log of one ticket per path: the highest-reaching first, then an L1 one."""
    trails: dict[str, list[str]] = {}
    for kind in ("l3", "l2", "l1"):
        planned = next((p for p in sample if p.kind == kind and p.number in l1.ids), None)
        if planned is not None:
            trails[planned.number] = format_trail(
                stack.runtime, l1_connector, l1.ids[planned.number]
            )
    return trails
