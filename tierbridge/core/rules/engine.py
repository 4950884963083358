"""Evaluate the rules for one ticket and fire those whose conditions started to hold.

Rules are tried in order. The first rule whose conditions hold wins and ends the
evaluation, unless it has `continue: true`. A rule that holds fires only if it did not
hold at the ticket's previous evaluation, so a P1 ticket escalates once rather than on
every event, and fires again only after its conditions stopped holding in between.

The verdicts are stored after every action ran. If an action fails, the event is retried
and the rule fires again; the actions are written so that a second run repeats nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from tierbridge.core.escalation import effective_rules
from tierbridge.core.model import Ticket, Tier
from tierbridge.core.rules.actions import Firing, run_actions
from tierbridge.core.rules.conditions import ClockFacts, Facts, match
from tierbridge.core.rules.routing import ActionResult
from tierbridge.core.sla.clock import elapsed
from tierbridge.core.sla.policy import SlaPolicy
from tierbridge.core.sla.tracker import Tracking
from tierbridge.core.store.sla_rows import RuleStateRow

if TYPE_CHECKING:
    from tierbridge.core.runtime import Runtime
    from tierbridge.core.store import RefRow

__all__ = ["FiredRule", "apply_rules", "gather_facts"]


@dataclass(frozen=True)
class FiredRule:
    """A rule that fired, the conditions that matched, and what its actions did."""

    rule: str
    matched: list[str]
    results: list[ActionResult]

    @property
    def detail(self) -> str:
        """The sync log's detail: the rule and why it fired."""
        return f"rule {self.rule}: {', '.join(self.matched) or 'no conditions'}"


def apply_rules(
    rt: Runtime, source: RefRow, ticket: Ticket, tracking: Tracking | None = None
) -> list[FiredRule]:
    """Evaluate every rule for `ticket` at `rt.clock()`, fire the new matches, store verdicts.

    `tracking` is the ticket's SLA state just saved by `track_ticket`; without it the state
    is read from the store.
    """
    rules = effective_rules(rt.config)
    if not rules:
        return []

    facts = gather_facts(rt, source, ticket, rt.clock(), tracking)
    states = rt.store.rule_states(source.connector, source.ticket_id)
    fired: list[FiredRule] = []
    verdicts: list[RuleStateRow] = []
    for rule in rules:
        matched = match(rule.when, facts)
        state = states.get(rule.name) or RuleStateRow(
            source.connector, source.ticket_id, rule.name, False, 0, None
        )
        if matched is None:
            if state.matched:
                verdicts.append(replace(state, matched=False))
            continue

        if not state.matched:
            firing = Firing(rule, ticket, source, facts, matched, state.fired_count)
            fired.append(FiredRule(rule.name, matched, run_actions(rt, firing)))
            state = replace(
                state, matched=True, fired_count=state.fired_count + 1, last_fired_at=facts.now
            )
            verdicts.append(state)
        if not rule.continue_:
            break

    rt.store.save_rule_states(verdicts)
    return fired


def gather_facts(
    rt: Runtime, source: RefRow, ticket: Ticket, now: datetime, tracking: Tracking | None = None
) -> Facts:
    """Collect what the conditions test: the ticket, its tier, counters and clocks at `now`."""
    tier = Tier(source.tier)
    if tracking is None:
        activity = rt.store.get_activity(source.connector, source.ticket_id)
        stored = rt.store.get_clocks(source.connector, source.ticket_id)
    else:
        activity, stored = tracking.activity, tracking.clocks
    policy = SlaPolicy.from_config(rt.config)
    clocks = {}
    for kind, clock in stored.items():
        calendar = policy.calendar(clock.calendar, tier)
        clocks[kind] = ClockFacts(
            elapsed(clock, calendar, now), clock.target_seconds, clock.breached_at is not None
        )

    opened = activity.opened_at if activity is not None else ticket.created
    settings = rt.config.connectors.get(source.connector)
    return Facts(
        ticket=ticket,
        tier=tier,
        connector=source.connector,
        system=settings.system if settings is not None else "",
        now=now,
        age_seconds=(now - opened).total_seconds() if opened is not None else None,
        reopen_count=activity.reopen_count if activity is not None else 0,
        reassignment_count=activity.reassignment_count if activity is not None else 0,
        clocks=clocks,
    )
