"""`tierbridge demo`: replay real tickets through the daemon, up the tiers and back.

The default scenario, `servicenow-jsm`, starts a ServiceNow emulator (L1), a JSM emulator
(L2) and the daemon, and replays incidents from the shipped event log as an L1 agent would
make them. The L1 agent attaches a customer's log to every third escalated incident, and a
scripted L2 agent replies to, attaches a report to and resolves the escalated ones. Then
the demo reads both emulators to check that every expected sync happened, files included.
The other scenarios (`tierbridge.core.demo.scenarios`) do the same with other systems in
the tiers, up to L3. The demo exits 0 only when all checks pass.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

from tierbridge.core.demo.actors import L1Replay, L2Agent, replay_batches
from tierbridge.core.demo.dataset import read_histories
from tierbridge.core.demo.desks import JiraDesk, ServiceNowDesk
from tierbridge.core.demo.files import attach_customer_logs
from tierbridge.core.demo.plan import DEFAULT_SAMPLE_SIZE, PlannedIncident, choose_sample
from tierbridge.core.demo.report import print_summary
from tierbridge.core.demo.scenarios import DEFAULT_SCENARIO, scenario_named
from tierbridge.core.demo.stack import DemoStack
from tierbridge.core.demo.trails import format_trail
from tierbridge.core.demo.verify import FileSides, Outcome, verify
from tierbridge.core.logs import configure_logging
from tierbridge.emulators.jira.agent import JiraAgent
from tierbridge.emulators.jira.catalog import DEFAULT_TOKENS
from tierbridge.emulators.servicenow.agent import ServiceNowAgent
from tierbridge.emulators.servicenow.emulator import DEFAULT_PASSWORDS

__all__ = ["run_demo", "run_scenario"]

_L1_AGENT = "agent.l1"
_L2_AGENT = "agent.l2@example.com"


def run_demo(
    *,
    incidents: int | None = None,
    keep: bool = False,
    verbose: bool = False,
    scenario: str = DEFAULT_SCENARIO,
) -> int:
    """Run a scenario in a temporary folder and print its summary; return the exit status.

    Raises KeyError for an unknown scenario name.
    """
    chosen = scenario_named(scenario)
    configure_logging("info" if verbose else "error")
    workdir = Path(tempfile.mkdtemp(prefix="tierbridge-demo-"))
    try:
        started = time.monotonic()
        if chosen.name == DEFAULT_SCENARIO:
            outcome, sample, stack_summary = run_scenario(
                workdir, incidents or DEFAULT_SAMPLE_SIZE, chosen.config
            )
            print_summary(sample, outcome, stack_summary, time.monotonic() - started)
            problems = outcome.problems
        else:
            from tierbridge.core.demo.play import play
            from tierbridge.core.demo.summary import print_played

            played = play(chosen, workdir, incidents or chosen.default_size)
            print_played(played, time.monotonic() - started)
            problems = played.outcome.problems
    finally:
        if keep:
            print(f"store and certificates kept in {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0 if not problems else 1


def run_scenario(
    workdir: Path, size: int, config_path: Path | None = None
) -> tuple[Outcome, list[PlannedIncident], dict[str, object]]:
    """Replay `size` incidents end to end in `workdir`; return the outcome and what the store saw.

    `config_path` defaults to `config/demo.yaml`; it must name its connectors `snow` and `jsm`.
    """
    stack = (
        DemoStack.start(workdir) if config_path is None else DemoStack.start(workdir, config_path)
    )
    snow = ServiceNowAgent(
        stack.snow.base_url, stack.snow.ca_cert, _L1_AGENT, DEFAULT_PASSWORDS[_L1_AGENT]
    )
    jira = JiraAgent(stack.jira.base_url, stack.jira.ca_cert, _L2_AGENT, DEFAULT_TOKENS[_L2_AGENT])
    project = stack.runtime.config.connector("jsm").project  # type: ignore[attr-defined]
    snow_desk = ServiceNowDesk(
        stack.snow.base_url,
        stack.snow.ca_cert,
        _L1_AGENT,
        DEFAULT_PASSWORDS[_L1_AGENT],
        stack.snow.state,
    )
    jira_desk = JiraDesk(
        stack.jira.base_url, stack.jira.ca_cert, _L2_AGENT, DEFAULT_TOKENS[_L2_AGENT], project
    )
    try:
        rule = stack.runtime.config.escalation.to_L2
        priorities = [str(p) for p in rule.priorities]
        sample = choose_sample(read_histories(), size, priorities, list(rule.assignment_groups))
        l1 = L1Replay(snow, stack.snow.state)
        l2 = L2Agent(jira, project, desk=jira_desk)

        for batch in replay_batches(sample):
            for planned, index in batch:
                l1.apply(planned, index)
            stack.settle()
        customer_logs = attach_customer_logs(snow_desk, sample, l1.sys_ids)
        stack.settle()

        resolve = {f"snow:{l1.sys_ids[p.number]}": p.l2_resolves for p in sample if p.escalates}
        l2.work(resolve)
        stack.settle()

        sides = FileSides(snow_desk, jira_desk, customer_logs)
        outcome = verify(sample, l1, l2, snow, jira, sides)
        dead = stack.runtime.store.list_events(status="dead", limit=1000)
        outcome.problems.extend(
            f"event {e.id} ({e.connector} {e.ticket_id}) failed: {e.last_error}" for e in dead
        )
        summary = {
            "actions": stack.runtime.store.count_actions(),
            "journal_l1": l1.journal_written,
            "comments_l2": l2.comments_written,
            "events": sum(len(p.replay) for p in sample),
            "trails": _trails(stack, sample, l1),
        }
        return outcome, sample, summary
    finally:
        snow_desk.close()
        jira_desk.close()
        snow.close()
        jira.close()
        stack.stop()


def _trails(stack: DemoStack, sample: list[PlannedIncident], l1: L1Replay) -> dict[str, list[str]]:
    """Return the sync log of three tickets: one resolved by L2, one escalated and open, one L1 only."""
    picks: list[PlannedIncident] = []
    for wanted in ("resolved", "open", "l1"):
        for planned in sample:
            kind = (
                "l1" if not planned.escalates else ("resolved" if planned.l2_resolves else "open")
            )
            if kind == wanted and planned not in picks:
                picks.append(planned)
                break

    return {
        planned.number: format_trail(stack.runtime, "snow", l1.sys_ids[planned.number])
        for planned in picks
    }
