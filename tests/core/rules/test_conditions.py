"""Matching rule conditions against a ticket's facts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tierbridge.core.model import Ticket, TicketRef, Tier
from tierbridge.core.rules.conditions import ClockFacts, Facts, match, time_triggers
from tierbridge.core.rules.models import Conditions, Rule

NOW = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)


def facts(**overrides: Any) -> Facts:
    ticket_fields = {
        "title": "Core switch outage in building B",
        "description": "Nothing works.",
        "status": "in_progress",
        "priority": "P2",
        "category": "Network",
        "subcategory": "Switch",
        "assignment_group": "Service Desk",
    }
    ticket_fields.update(overrides.pop("ticket", {}))
    values: dict[str, Any] = {
        "ticket": Ticket(ref=TicketRef(connector="snow", id="1"), **ticket_fields),
        "tier": Tier.L1,
        "connector": "snow",
        "system": "servicenow",
        "now": NOW,
        "age_seconds": 7200.0,
        "reopen_count": 1,
        "reassignment_count": 3,
        "clocks": {
            "response": ClockFacts(600.0, 900.0),
            "resolution": ClockFacts(10800.0, 14400.0),
        },
    }
    values.update(overrides)
    return Facts(**values)


def conditions(**when: Any) -> Conditions:
    return Conditions.model_validate(when)


@pytest.mark.parametrize(
    ("when", "phrase"),
    [
        ({"tier": "L1"}, "tier L1"),
        ({"priority": ["P1", "P2"]}, "priority P2"),
        ({"status": "in_progress"}, "status in_progress"),
        ({"category": "network"}, "category 'Network'"),
        ({"subcategory": ["Router", "Switch"]}, "subcategory 'Switch'"),
        ({"assignment_group": "service desk"}, "assignment group 'Service Desk'"),
        ({"keywords": ["OUTAGE", "down"]}, "keyword 'OUTAGE'"),
        ({"age": {"min": "2h"}}, "age 2.0 h"),
        ({"reopen_count": {"min": 1}}, "reopen count 1"),
        ({"reassignment_count": {"min": 2, "max": 3}}, "reassignment count 3"),
        ({"connector": "snow"}, "connector 'snow'"),
        ({"system": "servicenow"}, "system 'servicenow'"),
        ({"sla": {"resolution": "75%"}}, "resolution SLA 75% (75% elapsed)"),
    ],
)
def test_each_condition_holds(when: dict[str, Any], phrase: str) -> None:
    """Each condition that holds is named in the matched phrases."""
    assert match(conditions(**when), facts()) == [phrase]


@pytest.mark.parametrize(
    "when",
    [
        {"tier": "L2"},
        {"priority": "P1"},
        {"status": ["new", "pending"]},
        {"category": "Hardware"},
        {"assignment_group": "Network L3"},
        {"keywords": ["printer"]},
        {"age": {"min": "3h"}},
        {"age": {"max": "1h"}},
        {"reopen_count": {"min": 2}},
        {"reassignment_count": {"max": 2}},
        {"connector": "jsm"},
        {"system": "jira"},
        {"sla": {"resolution": "breached"}},
        {"sla": {"response": "breached"}},
    ],
)
def test_each_condition_fails(when: dict[str, Any]) -> None:
    """A condition that does not hold makes the whole rule not match."""
    assert match(conditions(**when), facts()) is None


def test_all_conditions_must_hold() -> None:
    """Conditions combine with and; one failing one is enough to miss."""
    assert match(conditions(tier="L1", priority="P1"), facts()) is None
    assert match(conditions(tier="L1", priority="P2"), facts()) == ["tier L1", "priority P2"]


def test_no_conditions_match() -> None:
    """A rule without conditions matches every ticket."""
    assert match(Conditions(), facts()) == []


def test_unless_blocks() -> None:
    """`unless` conditions that all hold stop the rule."""
    blocked = conditions(tier="L1", unless={"status": "in_progress"})
    passed = conditions(tier="L1", unless={"status": "resolved"})

    assert match(blocked, facts()) is None
    assert match(passed, facts()) == ["tier L1", "and its `unless` condition did not hold"]


def test_unless_alone_reads_without_and() -> None:
    """With no other condition, the `unless` phrase starts the detail, without "and"."""
    passed = conditions(unless={"status": "resolved"})

    assert match(passed, facts()) == ["its `unless` condition did not hold"]


def test_missing_value_does_not_match() -> None:
    """A ticket without a category never matches a category condition."""
    assert match(conditions(category="Network"), facts(ticket={"category": None})) is None


def test_breach_within_a_second() -> None:
    """A clock a fraction of a second short of its target counts as breached."""
    clocks = {"resolution": ClockFacts(14399.5, 14400.0)}

    assert match(conditions(sla={"resolution": "breached"}), facts(clocks=clocks)) is not None


def test_recorded_breach_holds() -> None:
    """A breach recorded in the store holds even if the clock was later retargeted."""
    clocks = {"resolution": ClockFacts(100.0, 14400.0, breach_recorded=True)}

    assert match(conditions(sla={"resolution": "breached"}), facts(clocks=clocks)) is not None


def test_clock_without_target() -> None:
    """A clock without a target never reaches a threshold."""
    clocks = {"resolution": ClockFacts(99999.0, None)}

    assert match(conditions(sla={"resolution": "50%"}), facts(clocks=clocks)) is None


def test_time_triggers() -> None:
    """Triggers collect SLA percentages per clock, always 100, and minimum ages."""
    rules = [
        Rule.model_validate(
            {
                "name": "a",
                "when": {"sla": {"resolution": "75%"}, "unless": {"age": {"min": "1h"}}},
                "then": [{"note": "x"}],
            }
        ),
        Rule.model_validate(
            {
                "name": "b",
                "when": {"sla": {"response": "breached"}, "age": {"min": "4h"}},
                "then": [{"note": "y"}],
            }
        ),
    ]

    triggers = time_triggers(rules)

    assert triggers.percents == {
        "response": frozenset({100.0}),
        "resolution": frozenset({75.0, 100.0}),
    }
    assert triggers.ages == frozenset({3600.0, 14400.0})
