"""Tests for the demo's sample choice and expected outcomes, on hand-built histories."""

from __future__ import annotations

import pytest

from tests.core.demo.support import history, logged
from tierbridge.core.demo.dataset import IncidentHistory, read_histories
from tierbridge.core.demo.plan import choose_sample, escalation_reason, plan_incident

PRIORITIES = ["P1", "P2"]
GROUPS = ["Group 39", "Group 54"]


def by_priority(number: str) -> IncidentHistory:
    return history(number, "New", "Active", "Resolved", "Closed", priority="2")


def by_group(number: str) -> IncidentHistory:
    return history(number, "New", "Active", "Resolved", assignment_group="Group 54")


def staying(number: str) -> IncidentHistory:
    return history(number, "New", "Resolved", "Closed")


class TestEscalationReason:
    def test_priority_reason(self) -> None:
        """A listed priority is the reason, written as P<n>."""
        assert escalation_reason(logged(priority="1"), PRIORITIES, GROUPS) == "priority P1"

    def test_group_reason(self) -> None:
        """A listed group is the reason when the priority is not listed."""
        event = logged(priority="3", assignment_group="Group 39")

        assert escalation_reason(event, PRIORITIES, GROUPS) == "group Group 39"

    def test_priority_before_group(self) -> None:
        """When both match, the priority is named, as the daemon's rule checks it first."""
        event = logged(priority="2", assignment_group="Group 39")

        assert escalation_reason(event, PRIORITIES, GROUPS) == "priority P2"

    @pytest.mark.parametrize("state", ["Resolved", "Closed", "-100"])
    def test_final_state_none(self, state: str) -> None:
        """A resolved, closed or deleted (-100) update never escalates."""
        assert escalation_reason(logged(state=state, priority="1"), PRIORITIES, GROUPS) is None

    def test_unlisted_none(self) -> None:
        """A P3 update in an unlisted group has no reason."""
        assert escalation_reason(logged(), PRIORITIES, GROUPS) is None


class TestPlanIncident:
    def test_replay_stops_at_resolution(self) -> None:
        """An escalated incident is replayed up to, not including, its first resolution."""
        planned = plan_incident(by_priority("INC1"), PRIORITIES, GROUPS, 0)

        assert planned.escalates
        assert [event.state for event in planned.replay] == ["New", "Active"]

    def test_late_escalation_kept(self) -> None:
        """Updates before the escalating one are replayed, and the reason is the later one."""
        first = logged("INC2", 0)
        raised = logged("INC2", 1, state="Active", assignment_group="Group 39")
        done = logged("INC2", 2, state="Resolved", assignment_group="Group 39")
        planned = plan_incident(
            IncidentHistory("INC2", (first, raised, done)), PRIORITIES, GROUPS, 0
        )

        assert planned.escalation_reason == "group Group 39"
        assert planned.replay == (first, raised)

    def test_l1_incident_replays_all(self) -> None:
        """An incident that never escalates is replayed to its end, closure included."""
        planned = plan_incident(staying("INC3"), PRIORITIES, GROUPS, 0)

        assert not planned.escalates
        assert [event.state for event in planned.replay] == ["New", "Resolved", "Closed"]
        assert planned.l2_resolves is False

    @pytest.mark.parametrize(("index", "resolves"), [(0, True), (1, True), (2, False), (5, False)])
    def test_two_in_three_resolved(self, index: int, resolves: bool) -> None:
        """The L2 agent resolves the escalated incidents except every third one."""
        planned = plan_incident(by_priority("INC4"), PRIORITIES, GROUPS, index)

        assert planned.l2_resolves is resolves


class TestChooseSample:
    def test_quotas_by_reason(self) -> None:
        """A sample of 6 contains 2 escalating by priority, 2 by group and 2 staying at L1."""
        histories = [
            by_priority("P-1"),
            by_priority("P-2"),
            by_priority("P-3"),
            by_group("G-1"),
            staying("L-1"),
            by_group("G-2"),
            staying("L-2"),
            staying("L-3"),
        ]

        sample = choose_sample(histories, 6, PRIORITIES, GROUPS)

        assert [planned.number for planned in sample] == ["P-1", "P-2", "G-1", "L-1", "G-2", "L-2"]

    def test_odd_size_fills_l1(self) -> None:
        """A size not divisible by 3 gives the remainder to incidents that stay at L1."""
        histories = [by_priority("P-1"), by_group("G-1"), staying("L-1"), staying("L-2")]

        sample = choose_sample(histories, 4, PRIORITIES, GROUPS)

        assert [planned.number for planned in sample] == ["P-1", "G-1", "L-1", "L-2"]

    def test_single_updates_skipped(self) -> None:
        """Incidents logged only once are never chosen, having nothing to replay after create."""
        single = IncidentHistory("S-1", (logged("S-1", priority="1"),))

        sample = choose_sample([single, by_priority("P-1")], 3, PRIORITIES, GROUPS)

        assert [planned.number for planned in sample] == ["P-1"]

    def test_third_escalated_left_open(self) -> None:
        """The third escalated incident chosen is left open, and skipped ones are not counted."""
        histories = [by_priority(f"P-{n}") for n in range(3)] + [
            by_group(f"G-{n}") for n in range(2)
        ]

        sample = choose_sample(histories, 6, PRIORITIES, GROUPS)

        assert [planned.number for planned in sample] == ["P-0", "P-1", "G-0", "G-1"]
        assert [planned.l2_resolves for planned in sample] == [True, True, False, True]

    def test_shipped_log_sample(self) -> None:
        """The shipped log yields a full sample of 6 with every path, each replay non-empty."""
        sample = choose_sample(read_histories(), 6, PRIORITIES, GROUPS)

        kinds = [(planned.escalation_reason or "none").split(" ")[0] for planned in sample]
        assert sorted(kinds) == ["group", "group", "none", "none", "priority", "priority"]
        assert all(planned.replay for planned in sample)
        assert len({planned.number for planned in sample}) == 6
