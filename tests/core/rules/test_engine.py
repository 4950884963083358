"""Rule evaluation in the engine: order, continue, firing once, and the sync log."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.core.rules.memory import Harness
from tierbridge.core.config import load_config
from tierbridge.core.escalation import default_rules, effective_rules
from tierbridge.core.model import Priority, Tier

START = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)

HarnessFactory = Callable[[str], Harness]


@pytest.fixture
def make(tmp_path: Path) -> Iterator[HarnessFactory]:
    built: list[Harness] = []

    def build(body: str) -> Harness:
        harness = Harness.from_yaml(tmp_path, body, START)
        built.append(harness)
        return harness

    yield build
    for harness in built:
        harness.close()


def notes(harness: Harness, connector: str, ticket_id: str) -> list[str]:
    return [c.body for c in harness.systems[connector].records[ticket_id].comments]


def fired(harness: Harness) -> list[str]:
    rows = sorted(harness.rt.store.sync_log(limit=1000), key=lambda row: row.id)
    return [row.detail or "" for row in rows if row.action == "rule_fired"]


TWO_RULES = """
rules:
  - name: first
    when: {priority: P1}
    then: [{note: first}]
  - name: second
    when: {priority: [P1, P2]}
    then: [{note: second}]
"""


class TestOrder:
    def test_first_match_wins(self, make: HarnessFactory) -> None:
        """Only the first rule that holds fires."""
        harness = make(TWO_RULES)
        ticket_id = harness.systems["l1"].open(title="A", priority="P1")

        harness.settle()

        assert notes(harness, "l1", ticket_id) == ["first"]

    def test_later_rule_when_first_misses(self, make: HarnessFactory) -> None:
        """When the first rule does not hold, the next one that does fires."""
        harness = make(TWO_RULES)
        ticket_id = harness.systems["l1"].open(title="A", priority="P2")

        harness.settle()

        assert notes(harness, "l1", ticket_id) == ["second"]

    def test_continue_tries_next(self, make: HarnessFactory) -> None:
        """A rule with `continue: true` lets the next rules fire too."""
        harness = make(
            TWO_RULES.replace("then: [{note: first}]", "then: [{note: first}]\n    continue: true")
        )
        ticket_id = harness.systems["l1"].open(title="A", priority="P1")

        harness.settle()

        assert notes(harness, "l1", ticket_id) == ["first", "second"]


class TestFiringOnce:
    def test_fires_once_while_it_holds(self, make: HarnessFactory) -> None:
        """Later events of a ticket that still matches do not fire the rule again."""
        harness = make(TWO_RULES)
        l1 = harness.systems["l1"]
        ticket_id = l1.open(title="A", priority="P1")
        harness.settle()

        l1.edit(ticket_id, title="A, still P1")
        harness.settle()

        assert notes(harness, "l1", ticket_id) == ["first"]

    def test_fires_again_after_a_gap(self, make: HarnessFactory) -> None:
        """A rule fires again once its conditions stopped holding and hold again."""
        harness = make(TWO_RULES)
        l1 = harness.systems["l1"]
        ticket_id = l1.open(title="A", priority="P1")
        harness.settle()

        l1.edit(ticket_id, priority="P4")
        harness.settle()
        l1.edit(ticket_id, priority="P1")
        harness.settle()

        assert notes(harness, "l1", ticket_id) == ["first", "first"]
        assert harness.rt.store.rule_states("l1", ticket_id)["first"].fired_count == 2

    def test_log_names_rule_and_conditions(self, make: HarnessFactory) -> None:
        """The sync log's rule_fired row names the rule and the conditions that matched."""
        harness = make(TWO_RULES)
        harness.systems["l1"].open(title="A", priority="P1")

        harness.settle()

        assert fired(harness) == ["rule first: priority P1"]
        assert harness.actions()[:2] == ["rule_fired", "note_added"]


DEMO_LIKE = """
escalation:
  to_L2:
    priorities: [P1]
    assignment_groups: [Outsourced L2]
"""


class TestDefaultRules:
    def test_to_l2_block_becomes_rules(self, tmp_path: Path) -> None:
        """`escalation.to_L2` turns into one rule for priorities and one for groups."""
        from tests.core.rules.memory import write_config

        config = load_config(write_config(tmp_path, DEMO_LIKE, tiers=2))

        by_priority, by_group = default_rules(config.escalation)
        assert by_priority.when.tier == (Tier.L1,)
        assert by_priority.when.priority == (Priority.P1,)
        assert by_group.when.assignment_group == ("Outsourced L2",)
        assert [a.escalate for a in by_group.then] == [Tier.L2]
        assert effective_rules(config) == (by_priority, by_group)

    def test_empty_block_adds_nothing(self, tmp_path: Path) -> None:
        """Without `escalation.to_L2` there are no default rules."""
        from tests.core.rules.memory import write_config

        config = load_config(write_config(tmp_path, "", tiers=2))

        assert effective_rules(config) == ()

    def test_p1_escalates_once(self, make: HarnessFactory) -> None:
        """A P1 L1 ticket escalates to L2 once, logged under the default rule's name."""
        harness = make(DEMO_LIKE)
        l1 = harness.systems["l1"]
        ticket_id = l1.open(title="Mail down", priority="P1")
        harness.settle()
        l1.edit(ticket_id, assignment_group="Outsourced L2", priority="P1")
        harness.settle()

        assert len(harness.systems["l2"].records) == 1
        assert fired(harness) == [
            "rule escalation.to_L2.priorities: tier L1, priority P1, "
            "and its `unless` condition did not hold"
        ]

    def test_resolved_ticket_stays(self, make: HarnessFactory) -> None:
        """A ticket already resolved when first seen does not escalate."""
        harness = make(DEMO_LIKE)
        harness.systems["l1"].open(title="Mail down", priority="P1", status="resolved")

        harness.settle()

        assert harness.systems["l2"].records == {}
