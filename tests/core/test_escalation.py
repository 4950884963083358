"""Tests for `decide_escalation`, the L1 -> L2 rule by priority or assignment group."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import pytest

from tierbridge.core.escalation import EscalationDecision, decide_escalation
from tierbridge.core.model import Priority, Status, Ticket, TicketRef, Tier

PRIORITIES = ["P1", "P2"]
GROUPS = ["Outsourced L2"]


def ticket(**fields: Any) -> Ticket:
    return Ticket(ref=TicketRef(connector="snow", id="abc", key="INC0010001"), **fields)


def decide(
    subject: Ticket, tier: Tier = Tier.L1, linked: Collection[Tier] = (Tier.L1,)
) -> EscalationDecision | None:
    return decide_escalation(
        subject, tier, linked_tiers=linked, priorities=PRIORITIES, assignment_groups=GROUPS
    )


class TestDecideEscalation:
    @pytest.mark.parametrize("priority", [Priority.P1, Priority.P2])
    def test_listed_priority_escalates(self, priority: Priority) -> None:
        """A listed priority sends the ticket to L2 and names the priority as the reason."""
        decision = decide(ticket(priority=priority, status=Status.NEW))

        assert decision is not None
        assert decision.target is Tier.L2
        assert priority.value in decision.reason

    def test_listed_group_escalates(self) -> None:
        """A P3 ticket assigned to a listed group escalates, naming the group."""
        decision = decide(ticket(priority=Priority.P3, assignment_group="Outsourced L2"))

        assert decision is not None
        assert decision.target is Tier.L2
        assert "Outsourced L2" in decision.reason

    def test_other_group_stays(self) -> None:
        """A P3 ticket in a group the rule does not list stays at L1."""
        assert decide(ticket(priority=Priority.P3, assignment_group="Service Desk")) is None

    def test_no_priority_no_group(self) -> None:
        """A ticket with neither priority nor group does not escalate."""
        assert decide(ticket(title="VPN drops")) is None

    def test_escalates_once(self) -> None:
        """A ticket already linked to an L2 counterpart is not escalated again."""
        assert decide(ticket(priority=Priority.P1), linked=(Tier.L1, Tier.L2)) is None

    @pytest.mark.parametrize("status", [Status.RESOLVED, Status.CLOSED, Status.CANCELED])
    def test_final_status_stays(self, status: Status) -> None:
        """A resolved, closed or canceled P1 ticket does not escalate."""
        assert decide(ticket(priority=Priority.P1, status=status)) is None

    def test_only_l1_escalates(self) -> None:
        """An L2 ticket is never escalated further by the L1 -> L2 rule."""
        assert decide(ticket(priority=Priority.P1), tier=Tier.L2, linked=(Tier.L2,)) is None

    def test_group_match_exact(self) -> None:
        """Group names match exactly: a different case is another group."""
        assert decide(ticket(priority=Priority.P4, assignment_group="outsourced l2")) is None
