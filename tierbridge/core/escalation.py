"""The `escalation.to_L2` block: escalate an L1 ticket by priority or by assignment group.

The engine runs the ordered rules of `tierbridge.core.rules`. `default_rules` turns this
block into two such rules, tried after the `rules:` section, so a config written before
rules existed keeps escalating as it did. `decide_escalation` is the same decision as a
plain function.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tierbridge.core.model import Status, Ticket, Tier
from tierbridge.core.rules.models import Action, Conditions, Rule

if TYPE_CHECKING:
    from tierbridge.core.config import AppConfig, EscalationSettings

__all__ = ["EscalationDecision", "decide_escalation", "default_rules", "effective_rules"]

_FINAL = (Status.RESOLVED, Status.CLOSED, Status.CANCELED)


@dataclass(frozen=True)
class EscalationDecision:
    """Move the ticket to `target`; `reason` is recorded in the sync log."""

    target: Tier
    reason: str


def decide_escalation(
    ticket: Ticket,
    tier: Tier,
    *,
    linked_tiers: Collection[Tier],
    priorities: Collection[str],
    assignment_groups: Collection[str],
) -> EscalationDecision | None:
    """Return the escalation an L1 ticket is due, or None.

    A ticket escalates once: when the next tier already has a counterpart, nothing happens.
    Final tickets (resolved, closed, canceled) never escalate.
    """
    target = tier.next()
    if tier is not Tier.L1 or target is None or target in linked_tiers:
        return None
    if ticket.status is not None and ticket.status.is_final:
        return None

    if ticket.priority is not None and ticket.priority.value in priorities:
        return EscalationDecision(
            target, f"priority {ticket.priority.value} is in {sorted(priorities)}"
        )
    if ticket.assignment_group is not None and ticket.assignment_group in assignment_groups:
        return EscalationDecision(target, f"assigned to group {ticket.assignment_group!r}")
    return None


def default_rules(settings: EscalationSettings) -> tuple[Rule, ...]:
    """Return `escalation.to_L2` as rules: one for its priorities, one for its groups.

    Each escalates a non-final L1 ticket to L2. Rules without a priority or group are left
    out, so an empty block adds no rule.
    """
    block = settings.to_L2
    unless_final = Conditions(status=_FINAL)
    escalate = (Action(escalate=Tier.L2),)
    rules = []
    if block.priorities:
        when = Conditions(tier=(Tier.L1,), priority=block.priorities, unless=unless_final)
        rules.append(Rule(name="escalation.to_L2.priorities", when=when, then=escalate))
    if block.assignment_groups:
        when = Conditions(
            tier=(Tier.L1,), assignment_group=block.assignment_groups, unless=unless_final
        )
        rules.append(Rule(name="escalation.to_L2.assignment_groups", when=when, then=escalate))
    return tuple(rules)


def effective_rules(config: AppConfig) -> tuple[Rule, ...]:
    """Return the rules the engine tries, in order: `rules:` first, then `escalation.to_L2`.

    The result is kept for the last config asked about, since configs are frozen.
    """
    global _last_rules
    cached = _last_rules
    if cached is not None and cached[0] is config:
        return cached[1]
    rules = (*config.rules, *default_rules(config.escalation))
    _last_rules = (config, rules)
    return rules


_last_rules: tuple[AppConfig, tuple[Rule, ...]] | None = None
