"""The `rules:`, `sla:` and `calendars:` sections as the config loader reads them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.core.rules.memory import write_config
from tierbridge.core.config import load_config
from tierbridge.core.errors import ConfigError
from tierbridge.core.model import Priority, Status, Tier
from tierbridge.core.rules.models import Action, Rule, SlaThreshold

VALID = """
calendars:
  office: {hours: 8/5, timezone: Europe/Brussels, holidays: [2030-01-07]}
sla:
  calendar: office
  targets:
    L1: {P1: {response: 15m, resolution: 4h}}
    L2: {calendar: 24/7, default: {resolution: 1d}}
rules:
  - name: major
    when: {tier: L1, priority: [P1, P2], keywords: outage}
    then: [{escalate: L2}, {note: Major incident.}]
    continue: true
  - name: breach
    when: {tier: L2, sla: {resolution: breached}, unless: {status: pending}}
    then:
      - escalate: L3
      - notify: {url: "https://hooks.example.com/sla", secret: {env: HOOK_SECRET}}
  - name: back
    when: {tier: L2, assignment_group: L1 Desk}
    then: [{return_to: previous}, {set: {priority: P3}}]
"""


def problems(tmp_path: Path, body: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(write_config(tmp_path, body))
    return [str(issue) for issue in caught.value.issues]


def line_of(tmp_path: Path, text: str) -> int:
    lines = (tmp_path / "config.yaml").read_text(encoding="utf-8").splitlines()
    return next(number for number, line in enumerate(lines, 1) if text in line)


class TestValid:
    def test_loads_everything(self, tmp_path: Path) -> None:
        """A full example loads into typed rules, targets and calendars."""
        config = load_config(write_config(tmp_path, VALID))

        major, breach, back = config.rules
        assert major.when.priority == (Priority.P1, Priority.P2)
        assert major.when.keywords == ("outage",)
        assert major.continue_ is True
        assert [a.kind for a in major.then] == ["escalate", "note"]
        assert breach.when.unless is not None
        assert breach.when.unless.status == (Status.PENDING,)
        assert breach.then[1].notify is not None
        assert back.then[0].return_to == "previous"
        assert config.sla.targets[Tier.L1].P1 is not None
        assert config.sla.targets[Tier.L1].P1.response == 900
        assert set(config.calendars.root) == {"office"}

    def test_no_sections(self, tmp_path: Path) -> None:
        """Without the sections there are no rules and no targets."""
        config = load_config(write_config(tmp_path, ""))

        assert len(config.rules) == 0
        assert config.sla.targets == {}

    def test_empty_rules_key(self, tmp_path: Path) -> None:
        """An empty `rules:` key means no rules."""
        config = load_config(write_config(tmp_path, "rules:\n"))

        assert len(config.rules) == 0


class TestInvalid:
    def test_unknown_condition(self, tmp_path: Path) -> None:
        """An unknown key under `when` is reported at its line."""
        found = problems(
            tmp_path, "rules:\n  - name: a\n    when: {prio: P1}\n    then: [{escalate: L2}]\n"
        )

        assert len(found) == 1
        assert f":{line_of(tmp_path, 'prio')}:" in found[0]
        assert "rules.0.when.prio: unknown key 'prio'" in found[0]

    def test_two_actions_in_one(self, tmp_path: Path) -> None:
        """An action with two keys is rejected with the list of action keys."""
        found = problems(tmp_path, "rules:\n  - name: a\n    then: [{escalate: L2, note: hi}]\n")

        assert "exactly one of escalate, return_to, set, note, notify" in found[0]
        assert "got escalate, note" in found[0]

    def test_rule_without_actions(self, tmp_path: Path) -> None:
        """A rule with an empty `then` is rejected."""
        found = problems(tmp_path, "rules:\n  - name: a\n    then: []\n")

        assert "at least one action" in found[0]

    def test_bad_threshold(self, tmp_path: Path) -> None:
        """An SLA state other than breached or a percentage is rejected."""
        found = problems(
            tmp_path,
            "rules:\n  - name: a\n    when: {sla: {response: late}}\n    then: [{escalate: L2}]\n",
        )

        assert "breached or a percentage" in found[0]

    def test_set_unknown_field(self, tmp_path: Path) -> None:
        """A `set` action on a field a person does not edit is rejected."""
        found = problems(tmp_path, "rules:\n  - name: a\n    then: [{set: {correlation_id: x}}]\n")

        assert "cannot write 'correlation_id'" in found[0]

    def test_set_invalid_value(self, tmp_path: Path) -> None:
        """A `set` value the canonical field rejects is reported."""
        found = problems(tmp_path, "rules:\n  - name: a\n    then: [{set: {priority: P9}}]\n")

        assert len(found) == 1
        assert "rules.0.then.0.set" in found[0]

    def test_plain_http_notify(self, tmp_path: Path) -> None:
        """A notify URL on plain http to another host is rejected."""
        found = problems(
            tmp_path,
            "rules:\n  - name: a\n    then: [{notify: {url: 'http://hooks.example.com/x',"
            " secret: {env: S}}}]\n",
        )

        assert "must use https" in found[0]

    def test_literal_secret(self, tmp_path: Path) -> None:
        """A notify secret written in the file is rejected without echoing it."""
        found = problems(
            tmp_path,
            "rules:\n  - name: a\n    then: [{notify: {url: 'https://h.example.com/x',"
            " secret: hunter2}}]\n",
        )

        assert "environment variable or a file" in found[0]
        assert "hunter2" not in found[0]

    def test_bad_duration(self, tmp_path: Path) -> None:
        """A target that is not a duration is reported at its line."""
        found = problems(tmp_path, "sla:\n  targets:\n    L1: {P1: {response: soon}}\n")

        assert f":{line_of(tmp_path, 'soon')}:" in found[0]
        assert "invalid duration 'soon'" in found[0]


def test_threshold_percent() -> None:
    """`breached` stands for 100 % and `75%` for 75 %."""
    assert SlaThreshold("breached").percent == 100.0
    assert SlaThreshold("75%").percent == 75.0


def test_action_kind() -> None:
    """An action names its one key."""
    assert Action(return_to="previous").kind == "return_to"


def test_rule_name_checked() -> None:
    """A rule name with spaces is rejected."""
    with pytest.raises(ValueError, match="invalid rule name"):
        Rule.model_validate({"name": "my rule", "then": [{"note": "x"}]})
