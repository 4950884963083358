"""Escalation decisions for the L1 -> L2 slice: by priority or by assignment group.

TODO: rules are the fixed `escalation.to_L2` block; ordered rules with SLA conditions and
more actions are not built yet.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from tierbridge.core.model import Ticket, Tier

__all__ = ["EscalationDecision", "decide_escalation"]


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
