"""Cross-checks of rules, SLA targets and calendars against each other and the tiers."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.core.rules.memory import write_config
from tierbridge.core.config import load_config
from tierbridge.core.errors import ConfigError


def problems(tmp_path: Path, body: str, tiers: int = 3) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(write_config(tmp_path, body, tiers))
    return [issue.message for issue in caught.value.issues]


def test_unknown_default_calendar(tmp_path: Path) -> None:
    """An SLA calendar that is neither a preset nor defined is reported with the known names."""
    found = problems(tmp_path, "sla: {calendar: office}\n")

    assert found == [
        "unknown calendar 'office'; define it under calendars: or use one of 12/5, 24/7, 8/5"
    ]


def test_unknown_tier_calendar(tmp_path: Path) -> None:
    """A tier's calendar must exist too."""
    found = problems(tmp_path, "sla: {targets: {L2: {calendar: night}}}\n")

    assert "unknown calendar 'night'" in found[0]


def test_targets_for_missing_tier(tmp_path: Path) -> None:
    """Targets for a tier without a connector are reported."""
    found = problems(tmp_path, "sla: {targets: {L3: {default: {resolution: 8h}}}}\n", tiers=2)

    assert found == ["tier L3 has SLA targets but no connector; add tiers.L3 or remove them"]


def test_duplicate_rule_name(tmp_path: Path) -> None:
    """Two rules with one name are reported at the second."""
    body = "rules:\n" + "  - {name: a, then: [{note: x}]}\n" * 2

    assert problems(tmp_path, body) == [
        "rule name 'a' is used by rule 1 too; give each rule its own name"
    ]


def test_escalate_to_missing_tier(tmp_path: Path) -> None:
    """Escalating to a tier without a connector is reported."""
    found = problems(tmp_path, "rules:\n  - {name: a, then: [{escalate: L3}]}\n", tiers=2)

    assert found == ["tier L3 has no connector; add tiers.L3 to the config"]


def test_escalate_downwards(tmp_path: Path) -> None:
    """A rule for L2 tickets cannot escalate to L1 or L2."""
    body = "rules:\n  - {name: a, when: {tier: L2}, then: [{escalate: L2}]}\n"

    assert problems(tmp_path, body) == ["escalate goes up: L2 is not above the rule's tier L2"]


def test_return_upwards(tmp_path: Path) -> None:
    """A rule for L1 tickets cannot return them to L2."""
    body = "rules:\n  - {name: a, when: {tier: L1}, then: [{return_to: L2}]}\n"

    assert problems(tmp_path, body) == ["return_to goes down: L2 is not below the rule's tier L1"]
