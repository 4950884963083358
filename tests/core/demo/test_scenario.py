"""Tests for `run_scenario`: a small demo end to end on fresh emulators and a fresh store."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from tierbridge.core.demo import run_scenario
from tierbridge.core.demo.files import gets_customer_log
from tierbridge.core.demo.plan import PlannedIncident
from tierbridge.core.demo.report import print_summary
from tierbridge.core.demo.verify import Outcome
from tierbridge.core.model import Tier

#: Variables the demo stack sets for its daemon; restored after the module.
_DEMO_VARIABLES = (
    "TIERBRIDGE_SNOW_PASSWORD",
    "TIERBRIDGE_JIRA_TOKEN",
    "TIERBRIDGE_SNOW_WEBHOOK_SECRET",
    "TIERBRIDGE_JIRA_WEBHOOK_SECRET",
)

Scenario = tuple[Outcome, list[PlannedIncident], dict[str, Any]]


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    """Replay 6 incidents once for the whole module."""
    with pytest.MonkeyPatch.context() as patch:
        for name in _DEMO_VARIABLES:
            patch.setenv(name, "replaced-by-the-demo")
        yield run_scenario(tmp_path_factory.mktemp("demo"), 6)


class TestRunScenario:
    def test_no_problems(self, scenario: Scenario) -> None:
        """Every check of a 6-incident replay passes and no event is dead."""
        outcome, _sample, _summary = scenario

        assert outcome.problems == []

    def test_expected_counts(self, scenario: Scenario) -> None:
        """Each escalating incident reached JSM, and each one L2 resolved came back resolved."""
        outcome, sample, _summary = scenario

        assert len(sample) == 6
        assert outcome.escalated == sum(planned.escalates for planned in sample)
        assert outcome.resolved_back == sum(planned.l2_resolves for planned in sample)
        assert outcome.comments_to_l1 > 0
        assert outcome.comments_to_l2 > 0

    def test_files_checked_both_sides(self, scenario: Scenario) -> None:
        """Each escalation's L2 report, and every third one's L1 log, is on both tickets once."""
        outcome, _sample, _summary = scenario

        logs = sum(gets_customer_log(index) for index in range(outcome.escalated))
        assert outcome.escalated > 0
        assert outcome.files == Counter(
            {Tier.L1: outcome.escalated + logs, Tier.L2: outcome.escalated + logs}
        )

    def test_store_saw_escalations(self, scenario: Scenario) -> None:
        """The sync log contains one escalation per escalated incident and no retries."""
        outcome, _sample, summary = scenario

        actions = summary["actions"]
        assert actions["escalated"] == outcome.escalated
        assert actions.get("retry", 0) == 0
        assert actions.get("dead_lettered", 0) == 0

    def test_summary_printed(self, scenario: Scenario, capsys: pytest.CaptureFixture[str]) -> None:
        """The printed summary reports the counts and that all checks passed."""
        outcome, sample, summary = scenario

        print_summary(sample, outcome, summary, 4.2)

        out = capsys.readouterr().out
        assert (
            f"escalated to JSM          {outcome.escalated} of {outcome.escalated} expected" in out
        )
        files = outcome.files[Tier.L1]
        assert f"attachments               {files} files checked in SN and {files} in JSM" in out
        assert "time                      4.2 s" in out
        assert out.rstrip().endswith(
            "All checks passed: every expected sync was confirmed on both emulators."
        )
