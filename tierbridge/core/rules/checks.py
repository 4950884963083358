"""Checks of `rules:`, `sla:` and `calendars:` against each other and the tiers.

Each section is validated on its own first (types, durations, percentages). These checks
then find names that point nowhere: a calendar that is not defined, a tier without a
connector, an escalation to a tier at or below the rule's own, two rules with one name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tierbridge.core.errors import ConfigIssue
from tierbridge.core.model import Tier
from tierbridge.core.rules.models import Action, Rule, RuleList
from tierbridge.core.sla.calendar import PRESET_HOURS
from tierbridge.core.sla.settings import Calendars, SlaSettings
from tierbridge.core.yamlfile import Locator

__all__ = ["check_rules_and_sla"]

_ORDER = list(Tier)


def check_rules_and_sla(
    sections: Mapping[str, Any], tiers: Mapping[Tier, Any], locator: Locator
) -> list[ConfigIssue]:
    """Return the problems between the validated sections and the configured tiers."""
    calendars = sections.get("calendars") or Calendars()
    sla = sections.get("sla") or SlaSettings()
    rules = sections.get("rules") or RuleList()
    issues = _check_sla(sla, set(PRESET_HOURS) | set(calendars.root), tiers, locator)
    issues.extend(_check_rules(rules, tiers, locator))
    return issues


def _check_sla(
    sla: SlaSettings, calendar_names: set[str], tiers: Mapping[Tier, Any], locator: Locator
) -> list[ConfigIssue]:
    known = ", ".join(sorted(calendar_names))
    issues = []
    if sla.calendar not in calendar_names:
        msg = f"unknown calendar {sla.calendar!r}; define it under calendars: or use one of {known}"
        issues.append(locator.issue(("sla", "calendar"), msg))
    for tier, targets in sla.targets.items():
        if tier not in tiers:
            msg = f"tier {tier} has SLA targets but no connector; add tiers.{tier} or remove them"
            issues.append(locator.issue(("sla", "targets", tier.value), msg, at_key=True))
        if targets.calendar is not None and targets.calendar not in calendar_names:
            msg = f"unknown calendar {targets.calendar!r}; define it under calendars: or use one of {known}"
            issues.append(locator.issue(("sla", "targets", tier.value, "calendar"), msg))
    return issues


def _check_rules(rules: RuleList, tiers: Mapping[Tier, Any], locator: Locator) -> list[ConfigIssue]:
    issues: list[ConfigIssue] = []
    seen: dict[str, int] = {}
    for index, rule in enumerate(rules):
        if rule.name in seen:
            msg = f"rule name {rule.name!r} is used by rule {seen[rule.name] + 1} too; give each rule its own name"
            issues.append(locator.issue(("rules", index, "name"), msg))
        seen.setdefault(rule.name, index)
        for position, action in enumerate(rule.then):
            problem = _action_problem(rule, action, tiers)
            if problem is not None:
                loc = ("rules", index, "then", position, action.kind)
                issues.append(locator.issue(loc, problem))
    return issues


def _action_problem(rule: Rule, action: Action, tiers: Mapping[Tier, Any]) -> str | None:
    """Return why `action` can never work for `rule`, or None."""
    target = action.escalate or (action.return_to if isinstance(action.return_to, Tier) else None)
    if target is None:
        return None
    if target not in tiers:
        return f"tier {target} has no connector; add tiers.{target} to the config"

    own = rule.when.tier
    if (
        action.escalate is not None
        and own
        and min(_ORDER.index(t) for t in own) >= _ORDER.index(target)
    ):
        return f"escalate goes up: {target} is not above the rule's tier {', '.join(own)}"
    if (
        action.return_to is not None
        and own
        and max(_ORDER.index(t) for t in own) <= _ORDER.index(target)
    ):
        return f"return_to goes down: {target} is not below the rule's tier {', '.join(own)}"
    return None
