"""Decide whether a rule's conditions hold for a ticket, and name the ones that matched.

`Facts` is everything a condition may test, gathered once per evaluation: the canonical
ticket, where it lives, its counters and the state of its SLA clocks at that moment.
`match` returns the matched conditions as short phrases for the sync log, or None.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from tierbridge.core.model import Ticket, Tier
from tierbridge.core.rules.models import Conditions, Rule, SlaThreshold
from tierbridge.core.sla.clock import BREACH_TOLERANCE_SECONDS
from tierbridge.core.sla.settings import CLOCK_KINDS

__all__ = ["ClockFacts", "Facts", "TimeTriggers", "match", "time_triggers"]


@dataclass(frozen=True)
class ClockFacts:
    """One SLA clock at the moment of evaluation, in business seconds."""

    elapsed_seconds: float
    target_seconds: float | None
    #: Set once the store recorded a breach; a clock past its target counts as breached too.
    breach_recorded: bool = False

    @property
    def percent(self) -> float | None:
        if not self.target_seconds:
            return None
        return 100.0 * self.elapsed_seconds / self.target_seconds

    def reached(self, percent: float) -> bool:
        """Tell whether the clock has counted `percent` of its target, within a second."""
        if not self.target_seconds:
            return False
        wanted = self.target_seconds * percent / 100.0
        return self.elapsed_seconds + BREACH_TOLERANCE_SECONDS >= wanted


@dataclass(frozen=True)
class Facts:
    """The values a rule's conditions are tested against."""

    ticket: Ticket
    tier: Tier
    connector: str
    system: str
    now: datetime
    age_seconds: float | None = None
    reopen_count: int = 0
    reassignment_count: int = 0
    clocks: Mapping[str, ClockFacts] = field(default_factory=dict)


def match(conditions: Conditions, facts: Facts) -> list[str] | None:
    """Return the phrases of the conditions that matched, or None if one does not hold."""
    matched: list[str] = []
    for check in _CHECKS:
        outcome = check(conditions, facts)
        if outcome is False:
            return None
        if isinstance(outcome, str):
            matched.append(outcome)

    if conditions.unless is not None and match(conditions.unless, facts) is not None:
        return None
    if conditions.unless is not None:
        # Logged after the other phrases: "tier L1, priority P1, and its `unless` ...".
        joiner = "and its" if matched else "its"
        matched.append(f"{joiner} `unless` condition did not hold")
    return matched


# Each check returns None when its condition is not given, False when it fails, and the
# phrase to log when it holds.
_Outcome = str | bool | None


def _one_of(name: str, allowed: Iterable[object], value: object) -> _Outcome:
    allowed = tuple(allowed)
    if not allowed:
        return None
    if value is None or value not in allowed:
        return False
    return f"{name} {value}"


def _texts_one_of(name: str, allowed: tuple[str, ...], value: str | None) -> _Outcome:
    if not allowed:
        return None
    if value is None:
        return False
    wanted = {item.casefold() for item in allowed}
    return f"{name} {value!r}" if value.casefold() in wanted else False


def _tier(c: Conditions, f: Facts) -> _Outcome:
    return _one_of("tier", c.tier, f.tier)


def _priority(c: Conditions, f: Facts) -> _Outcome:
    return _one_of("priority", c.priority, f.ticket.priority)


def _status(c: Conditions, f: Facts) -> _Outcome:
    return _one_of("status", c.status, f.ticket.status)


def _category(c: Conditions, f: Facts) -> _Outcome:
    return _texts_one_of("category", c.category, f.ticket.category)


def _subcategory(c: Conditions, f: Facts) -> _Outcome:
    return _texts_one_of("subcategory", c.subcategory, f.ticket.subcategory)


def _group(c: Conditions, f: Facts) -> _Outcome:
    return _texts_one_of("assignment group", c.assignment_group, f.ticket.assignment_group)


def _connector(c: Conditions, f: Facts) -> _Outcome:
    return _texts_one_of("connector", c.connector, f.connector)


def _system(c: Conditions, f: Facts) -> _Outcome:
    return _texts_one_of("system", c.system, f.system)


def _keywords(c: Conditions, f: Facts) -> _Outcome:
    if not c.keywords:
        return None
    text = f"{f.ticket.title or ''}\n{f.ticket.description or ''}".casefold()
    for keyword in c.keywords:
        if keyword.casefold() in text:
            return f"keyword {keyword!r}"
    return False


def _age(c: Conditions, f: Facts) -> _Outcome:
    if c.age is None:
        return None
    if f.age_seconds is None or not c.age.contains(f.age_seconds + BREACH_TOLERANCE_SECONDS):
        return False
    return f"age {f.age_seconds / 3600:.1f} h"


def _counts(c: Conditions, f: Facts) -> _Outcome:
    phrases = []
    for name, bounds, value in (
        ("reopen count", c.reopen_count, f.reopen_count),
        ("reassignment count", c.reassignment_count, f.reassignment_count),
    ):
        if bounds is None:
            continue
        if not bounds.contains(value):
            return False
        phrases.append(f"{name} {value}")
    return ", ".join(phrases) or None


def _sla(c: Conditions, f: Facts) -> _Outcome:
    if c.sla is None:
        return None
    phrases = []
    for kind in CLOCK_KINDS:
        threshold: SlaThreshold | None = getattr(c.sla, kind)
        if threshold is None:
            continue
        clock = f.clocks.get(kind)
        if clock is None or not _reached(clock, threshold):
            return False
        phrases.append(f"{kind} SLA {threshold.root} ({clock.percent or 0:.0f}% elapsed)")
    return ", ".join(phrases) or None


def _reached(clock: ClockFacts, threshold: SlaThreshold) -> bool:
    if threshold.root == "breached" and clock.breach_recorded:
        return True
    return clock.reached(threshold.percent)


_CHECKS = (
    _tier,
    _connector,
    _system,
    _priority,
    _status,
    _category,
    _subcategory,
    _group,
    _keywords,
    _age,
    _counts,
    _sla,
)


@dataclass(frozen=True)
class TimeTriggers:
    """The moments at which rules may start to hold without any change to the ticket."""

    #: SLA thresholds in percent, by clock kind; 100 (the breach) is always watched.
    percents: Mapping[str, frozenset[float]]
    #: Ticket ages in seconds named by `age.min` conditions.
    ages: frozenset[float]


def time_triggers(rules: Iterable[Rule]) -> TimeTriggers:
    """Collect the SLA thresholds and ages the rules test, so timers can be armed for them."""
    percents: dict[str, set[float]] = {kind: {100.0} for kind in CLOCK_KINDS}
    ages: set[float] = set()
    for rule in rules:
        _collect(rule.when, percents, ages)
    return TimeTriggers({k: frozenset(v) for k, v in percents.items()}, frozenset(ages))


def _collect(conditions: Conditions, percents: dict[str, set[float]], ages: set[float]) -> None:
    if conditions.sla is not None:
        for kind in CLOCK_KINDS:
            threshold: SlaThreshold | None = getattr(conditions.sla, kind)
            if threshold is not None:
                percents[kind].add(threshold.percent)
    if conditions.age is not None and conditions.age.min is not None:
        ages.add(conditions.age.min)
    if conditions.unless is not None:
        _collect(conditions.unless, percents, ages)
