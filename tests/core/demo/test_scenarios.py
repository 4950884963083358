"""Tests for the demo scenarios: the registry, the neutral case logs, planning, and each
scenario end to end on a tiny sample."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.core.demo.support import FakeDesk, history
from tierbridge.core.cli import main
from tierbridge.core.config import load_config
from tierbridge.core.demo import run_demo
from tierbridge.core.demo.cases import (
    WAITING_COMMENT,
    CaseLog,
    CaseUpdate,
    TicketValues,
    from_servicenow,
    journal_for,
)
from tierbridge.core.demo.checks import Tiers, check_outcome
from tierbridge.core.demo.desks import Entry, Seen
from tierbridge.core.demo.files import (
    attach,
    customer_log,
    diagnostic_report,
    gets_customer_log,
)
from tierbridge.core.demo.play import play
from tierbridge.core.demo.sampling import (
    MAX_REPLAYED_UPDATES,
    PlannedCase,
    choose_cases,
    plan_case,
    replay_order,
)
from tierbridge.core.demo.scenarios import DEFAULT_SCENARIO, SCENARIOS, scenario_named
from tierbridge.core.demo.stack import DEMO_CONFIG
from tierbridge.core.demo.summary import print_played
from tierbridge.core.demo.teams import L1Desk, TierAgent, texts_for
from tierbridge.core.demo.volvo import read_volvo
from tierbridge.core.model import Priority, Status, Tier

T0 = datetime(2013, 4, 1, 9, 0, tzinfo=UTC)


def update(step: int, **values: object) -> CaseUpdate:
    """An update `step` hours after T0; keywords set TicketValues, `team`, `line`, `waiting`."""
    team = values.pop("team", None)
    line = values.pop("line", None)
    waiting = bool(values.pop("waiting", False))
    base = {"title": "VPN drops", "priority": Priority.P3, "status": Status.IN_PROGRESS}
    return CaseUpdate(
        at=T0 + timedelta(hours=step),
        values=TicketValues(**{**base, **values}),  # type: ignore[arg-type]
        team=team if isinstance(team, str) else None,
        line=line if isinstance(line, str) else None,
        waiting_on_customer=waiting,
    )


def by_priority(case_update: CaseUpdate) -> str | None:
    """The scenarios' rule in canonical terms: P1 and P2 escalate, final tickets never do."""
    if case_update.status.is_final or case_update.priority not in (Priority.P1, Priority.P2):
        return None
    return f"priority {case_update.priority}"


class TestRegistry:
    def test_required_scenarios_listed(self) -> None:
        """The four scenarios exist, and servicenow-jsm is the default."""
        assert set(SCENARIOS) >= {
            "servicenow-jsm",
            "salesforce-jsm",
            "dynamics-servicenow",
            "salesforce-servicenow-jira",
        }
        assert DEFAULT_SCENARIO == "servicenow-jsm"

    @pytest.mark.parametrize("name", list(SCENARIOS))
    def test_config_loads(self, name: str) -> None:
        """Each scenario's config is valid and serves L1 and L2 from different systems."""
        config = load_config(scenario_named(name).config)

        systems = {tier: config.connectors[t.connector].system for tier, t in config.tiers.items()}
        assert Tier.L1 in systems
        assert Tier.L2 in systems
        assert systems[Tier.L1] != systems[Tier.L2]

    def test_three_tier_scenario(self) -> None:
        """salesforce-servicenow-jira serves L1, L2 and L3 from Salesforce, ServiceNow, JSM."""
        config = load_config(scenario_named("salesforce-servicenow-jira").config)

        systems = [config.connectors[config.tiers[tier].connector].system for tier in Tier]
        assert systems == ["salesforce", "servicenow", "jira"]

    def test_default_matches_demo_config(self) -> None:
        """The default scenario's config is config/demo.yaml apart from the store path."""
        scenario = load_config(scenario_named(DEFAULT_SCENARIO).config)
        demo = load_config(DEMO_CONFIG)

        assert scenario.tiers == demo.tiers
        assert scenario.escalation == demo.escalation
        for name, settings in demo.connectors.items():
            assert scenario.connectors[name] == settings

    def test_unknown_scenario_names_choices(self) -> None:
        """An unknown name raises KeyError listing the scenarios."""
        with pytest.raises(KeyError, match="salesforce-jsm"):
            scenario_named("zendesk-jsm")


class TestCli:
    def test_unknown_scenario_exit_2(self, capsys: pytest.CaptureFixture[str]) -> None:
        """`demo --scenario` with an unknown name exits 2 and lists the scenarios."""
        status = main(["demo", "--scenario", "zendesk-jsm"])

        err = capsys.readouterr().err
        assert status == 2
        assert "unknown scenario 'zendesk-jsm'" in err
        assert "dynamics-servicenow" in err

    def test_help_lists_scenarios(self, capsys: pytest.CaptureFixture[str]) -> None:
        """The option's help names every registered scenario."""
        with pytest.raises(SystemExit):
            main(["demo", "--help"])

        # argparse wraps long help after a hyphen; join the wrapped names again.
        out = re.sub(r"-\s+", "-", capsys.readouterr().out)
        for name in SCENARIOS:
            assert name in out


class TestCases:
    def test_changed_values_only(self) -> None:
        """changed_from keeps the values that differ and leaves the rest unset."""
        before = TicketValues(title="A", priority=Priority.P3, status=Status.NEW)
        after = TicketValues(title="A", priority=Priority.P2, status=Status.NEW)

        changes = after.changed_from(before)

        assert changes == TicketValues(priority=Priority.P2)
        assert not changes.is_empty()
        assert after.changed_from(after).is_empty()

    def test_journal_on_reassignment_and_wait(self) -> None:
        """A new team adds an internal note; starting to wait asks the customer publicly."""
        first = update(0, team="V30")
        second = update(1, team="V5 3rd", waiting=True, status=Status.PENDING)

        notes, comments = journal_for(second, first)

        assert notes == ["Reassigned to V5 3rd (reassignment from V30)."]
        assert comments == [WAITING_COMMENT]
        assert journal_for(first, None) == ([], [])

    def test_servicenow_log_converted(self) -> None:
        """A ServiceNow log incident keeps its priority, caller, group and final state."""
        log = from_servicenow(history("INC0000001", "New", "Active", "Resolved", priority="2"))

        first, _, last = log.updates
        assert first.priority is Priority.P2
        assert first.values.reporter == "caller.2403@example.com"
        assert first.team == "Group 56"
        assert last.status is Status.RESOLVED
        assert last.values.resolution_notes == "Resolved by Resolved by 149."

    def test_copy_header_recognised(self) -> None:
        """An entry starting with tierbridge's header line counts as a copy."""
        assert Entry("[Sam Roe in sf:00001001]\nHello", public=True).is_copy
        assert not Entry("Hello [not a header]", public=True).is_copy


class TestVolvoLog:
    def test_first_request(self) -> None:
        """The first request reads with its impact as priority and its support lines."""
        log = next(read_volvo())

        assert log.number == "1-364285768"
        assert len(log.updates) == 17
        assert {u.priority for u in log.updates} == {Priority.P3}
        assert [u.line for u in log.updates[:3]] == ["L1", "L1", "L3"]
        assert log.updates[2].status is Status.NEW
        assert log.updates[-1].status is Status.CLOSED
        assert log.updates[0].values.reporter is None

    def test_high_impact_is_p2(self) -> None:
        """`High` impact reads as P2, which the scenario configs escalate."""
        high = next(log for log in read_volvo() if log.updates[0].priority is Priority.P2)

        assert high.updates[0].values.title is not None


class TestPlanning:
    def test_escalated_replay_stops_at_resolution(self) -> None:
        """An escalated ticket is replayed up to its first resolution, not past it."""
        log = CaseLog(
            "SR-1",
            (
                update(0, priority=Priority.P2),
                update(1, status=Status.RESOLVED, priority=Priority.P2),
                update(2, status=Status.CLOSED, priority=Priority.P2),
            ),
        )

        planned = plan_case(log, by_priority, index=0, three_tiers=False)

        assert planned.escalation_reason == "priority P2"
        assert len(planned.replay) == 1
        assert planned.resolved_by is Tier.L2

    def test_unchanged_updates_skipped(self) -> None:
        """Updates that change nothing visible to an agent are not replayed."""
        log = CaseLog("SR-2", (update(0), update(1), update(2, status=Status.PENDING)))

        planned = plan_case(log, by_priority, index=0, three_tiers=False)

        assert [u.at for u in planned.replay] == [T0, T0 + timedelta(hours=2)]

    def test_long_history_cut(self) -> None:
        """A ticket replays at most MAX_REPLAYED_UPDATES updates."""
        updates = tuple(update(step, title=f"step {step}") for step in range(30))

        planned = plan_case(CaseLog("SR-3", updates), by_priority, index=0, three_tiers=False)

        assert len(planned.replay) == MAX_REPLAYED_UPDATES

    def test_third_line_hands_on(self) -> None:
        """In three tiers, an escalated ticket that the log sends to L3 is handed on."""
        log = CaseLog("SR-4", (update(0, priority=Priority.P2), update(1, line="L3", team="V5")))

        planned = plan_case(log, by_priority, index=0, three_tiers=True)
        two_tiers = plan_case(log, by_priority, index=0, three_tiers=False)

        assert planned.kind == "l3"
        assert planned.resolved_by is Tier.L3
        assert two_tiers.kind == "l2"

    def test_every_third_left_open(self) -> None:
        """The highest tier resolves two escalated tickets in three."""
        log = CaseLog("SR-5", (update(0, priority=Priority.P1), update(1)))

        outcomes = [plan_case(log, by_priority, index=i, three_tiers=False) for i in range(3)]

        assert [p.resolved_by for p in outcomes] == [Tier.L2, Tier.L2, None]

    def test_quotas_per_path(self) -> None:
        """A two-tier sample is half escalating; a three-tier one a third per path."""
        logs = list(read_volvo())
        three = choose_cases(iter(logs), 6, by_priority, three_tiers=True)
        two = choose_cases(iter(logs), 4, by_priority, three_tiers=False)

        assert [p.kind for p in three].count("l3") == 2
        assert [p.kind for p in three].count("l2") == 2
        assert [p.kind for p in two].count("l2") == 2
        assert len(three) == 6

    def test_replay_batches_each_ticket_once(self) -> None:
        """No batch contains two updates of one ticket, and every update is replayed once."""
        sample = choose_cases(read_volvo(), 4, by_priority, three_tiers=False)

        batches = list(replay_order(sample))

        for batch in batches:
            numbers = [planned.number for planned, _ in batch]
            assert len(numbers) == len(set(numbers))
        assert sum(len(b) for b in batches) == sum(len(p.replay) for p in sample)


class TestChecks:
    """The checker flags each kind of failure, so a passing scenario means something."""

    def planned(self) -> PlannedCase:
        log = CaseLog("SR-9", (update(0, priority=Priority.P1),))
        return plan_case(log, by_priority, index=2, three_tiers=False)

    def tiers(self, l1_seen: Seen, l2_tickets: list[Seen], l2_journal: list[Entry]) -> Tiers:
        planned = self.planned()
        l1 = L1Desk(FakeDesk([l1_seen], {}), ids={planned.number: l1_seen.id})
        upper = FakeDesk(l2_tickets, {seen.id: l2_journal for seen in l2_tickets})
        l2 = TierAgent(upper, Tier.L2, "sf", {l1_seen.id: planned})
        return Tiers(l1, "sf", l2)

    def test_missing_escalation_reported(self) -> None:
        """A planned escalation without an L2 ticket is a problem."""
        l1_seen = Seen("500A", "00001001", "", resolved=False, status="New")

        outcome = check_outcome([self.planned()], self.tiers(l1_seen, [], []))

        assert outcome.escalated == 0
        assert any("should have escalated" in problem for problem in outcome.problems)

    def test_duplicate_copy_reported(self) -> None:
        """An L2 reply copied twice to L1 is a problem, and a single copy is not."""
        l1_seen = Seen("500A", "00001001", "L2-1", resolved=False, status="New")
        l2_seen = Seen("L2-1", "L2-1", "sf:500A", resolved=False, status="In Progress")
        texts = texts_for(Tier.L2)
        tiers = self.tiers(l1_seen, [l2_seen], [])
        tiers.l1.desk.comment("500A", f"[a in jsm:L2-1]\n{texts.reply}", public=True)
        tiers.l1.desk.comment("500A", f"[a in jsm:L2-1]\n{texts.reply}", public=True)
        tiers.l1.desk.comment("500A", f"[a in jsm:L2-1]\n{texts.note}", public=False)

        outcome = check_outcome([self.planned()], tiers)

        assert outcome.escalated == 1
        assert outcome.comments_down == 1
        assert len(outcome.problems) == 1
        assert "found 2 times in L1 00001001" in outcome.problems[0]

    def test_file_missing_below_reported(self) -> None:
        """An L2 report missing at L1 is a problem; the L1 log found on both tickets counts."""
        l1_seen = Seen("500A", "00001001", "L2-1", resolved=False, status="New")
        l2_seen = Seen("L2-1", "L2-1", "sf:500A", resolved=False, status="In Progress")
        texts = texts_for(Tier.L2)
        tiers = self.tiers(l1_seen, [l2_seen], [])
        tiers.l1.desk.comment("500A", f"[a in jsm:L2-1]\n{texts.reply}", public=True)
        tiers.l1.desk.comment("500A", f"[a in jsm:L2-1]\n{texts.note}", public=False)
        tiers.l1.files["SR-9"] = customer_log("00001001")
        tiers.l2.files["L2-1"] = diagnostic_report(Tier.L2, "L2-1")
        attach(tiers.l1.desk, "500A", tiers.l1.files["SR-9"])
        attach(tiers.l2.desk, "L2-1", tiers.l1.files["SR-9"])
        attach(tiers.l2.desk, "L2-1", tiers.l2.files["L2-1"])

        outcome = check_outcome([self.planned()], tiers)

        assert outcome.files == Counter({Tier.L1: 1, Tier.L2: 2})
        assert outcome.problems == [
            "SR-9: 'diagnostics-L2-1.txt' found 0 times in L1 00001001, "
            "expected once with the same SHA-256"
        ]


@pytest.mark.parametrize("name", [name for name in SCENARIOS if name != DEFAULT_SCENARIO])
def test_scenario_tiny_sample(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The scenario replays one ticket per path and every check passes; each file is counted."""
    scenario = scenario_named(name)
    three_tiers = name == "salesforce-servicenow-jira"

    played = play(scenario, tmp_path, 3 if three_tiers else 2)

    assert played.outcome.problems == []
    escalated = sum(p.escalates for p in played.sample)
    logs = sum(gets_customer_log(index) for index in range(escalated))
    files = played.outcome.files
    assert files[Tier.L1] == files[Tier.L2] == logs + escalated + played.outcome.handed_on
    assert files[Tier.L3] >= played.outcome.handed_on
    print_played(played, 1.0)
    counts = f"{files[Tier.L1]} files checked in L1 and {files[Tier.L2]} in L2, each once"
    if three_tiers:
        counts = (
            f"{files[Tier.L1]} files checked in L1, {files[Tier.L2]} in L2 "
            f"and {files[Tier.L3]} in L3, each once"
        )
    assert f"  attachments               {counts}\n" in capsys.readouterr().out
    assert played.outcome.escalated == sum(p.escalates for p in played.sample) >= 1
    assert played.outcome.resolved_back == sum(p.resolved_by is not None for p in played.sample)
    assert played.outcome.comments_down > 0
    assert played.outcome.handed_on == (1 if three_tiers else 0)
    assert played.actions.get("dead_lettered", 0) == 0


def test_default_scenario_through_run_demo(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`run_demo` with the default scenario replays a tiny sample and exits 0."""
    # The original demo sets its secrets in the environment; restore them afterwards.
    for name in ("SNOW_PASSWORD", "JIRA_TOKEN", "SNOW_WEBHOOK_SECRET", "JIRA_WEBHOOK_SECRET"):
        monkeypatch.setenv(f"TIERBRIDGE_{name}", "replaced-by-the-demo")

    status = run_demo(incidents=3, scenario=DEFAULT_SCENARIO)

    out = capsys.readouterr().out
    assert status == 0
    assert "tierbridge demo: ServiceNow (L1) <-> Jira Service Management (L2)" in out
    assert "All checks passed" in out
    assert re.search(r"attachments +\d+ files checked in SN and \d+ in JSM, each once", out)
