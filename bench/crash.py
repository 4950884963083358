"""`python -m bench.crash`: kill the daemon with SIGKILL while it syncs, and count the damage.

The bench serves a ServiceNow emulator (L1) and a JSM emulator (L2) from this process and
runs `tierbridge run` as a child process. It replays the demo's incidents as the demo does:
the L1 agent's changes batch by batch, then the L2 agent's replies and resolutions. At seeded
random points it kills the daemon and starts it again. A third of the kills come before a
batch, whose changes then land while the daemon is down and their webhooks are dropped once
the emulators' few retries run out (about 2 s), so the restarted daemon must find them by
polling from its watermarks. The other kills hit while the daemon works on a batch.

When the replay has settled, both emulators are read: every expected escalation must exist
once, every comment must be copied once each way and never back, and every L2 resolution
must show in ServiceNow. The last line of output is `kills=N lost=L duplicates=D`, and the
exit status is 1 when L or D is above zero.
"""

from __future__ import annotations

import argparse
import functools
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench._scenario import Daemon, Scenario
from tierbridge.connectors.jira.adf import adf_to_text
from tierbridge.core.config import load_config
from tierbridge.core.demo.actors import (
    L2_INTERNAL_NOTE,
    L2_PUBLIC_REPLY,
    L2_RESOLUTION_REPLY,
    L1Replay,
    L2Agent,
    replay_batches,
)
from tierbridge.core.demo.dataset import read_histories
from tierbridge.core.demo.plan import PlannedIncident, choose_sample
from tierbridge.core.logs import configure_logging
from tierbridge.core.store import Store

__all__ = ["CrashResult", "main", "run_crash"]

#: Poll interval of the generated config: short, since polls recover the dropped webhooks.
POLL_INTERVAL_SECONDS = 0.25
#: Lease of the generated config. A killed worker's event waits this long before it runs
#: again, so it is short here. It must still exceed the time one event takes.
LEASE_SECONDS = 2.0
#: Time the daemon stays down after a kill before a batch: longer than the emulators'
#: webhook retries (4 tries over about 2 s), so the first webhooks of the batch are lost.
DOWN_SECONDS = 2.5
#: A kill during a batch comes this long (at most) after the batch or the last restart.
MAX_KILL_DELAY_SECONDS = 0.4
DEFAULT_INCIDENTS = 12
#: The Jira custom field in which the connector stores the correlation key.
CORRELATION_FIELD = "customfield_10060"
#: ServiceNow states expected on an escalated incident: resolved by L2, or taken by L2.
RESOLVED_STATE = "6"
IN_PROGRESS_STATE = "2"


@dataclass(frozen=True)
class Kill:
    """One SIGKILL: at which step, how long after it, and whether the step runs while down."""

    step: int
    delay: float
    before_step: bool


@dataclass
class CrashResult:
    """Counts and problems found by one run."""

    kills: int
    lost: int = 0
    duplicates: int = 0
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0


def plan_kills(count: int, steps: int, rng: random.Random) -> dict[int, list[Kill]]:
    """Spread `count` kills over the steps; the first kill of a step may come before it."""
    plan: dict[int, list[Kill]] = {}
    for step in sorted(rng.randrange(steps) for _ in range(count)):
        first = step not in plan
        kill = Kill(step, rng.uniform(0, MAX_KILL_DELAY_SECONDS), first and rng.random() < 1 / 3)
        plan.setdefault(step, []).append(kill)
    return plan


def run_crash(kills: int, seed: int, incidents: int, workdir: Path) -> CrashResult:
    """Replay `incidents` incidents while killing the daemon `kills` times; count the damage."""
    started = time.monotonic()
    scenario = Scenario.start(
        workdir, poll_interval=POLL_INTERVAL_SECONDS, queue={"lease_seconds": LEASE_SECONDS}
    )
    store = scenario.open_store()
    try:
        rule = load_config(scenario.config_path).escalation.to_L2
        priorities = [str(priority) for priority in rule.priorities]
        sample = choose_sample(read_histories(), incidents, priorities, rule.assignment_groups)
        l1 = L1Replay(scenario.l1, scenario.snow.state)
        l2 = L2Agent(scenario.l2, "L2")
        steps = list(replay_batches(sample))
        plan = plan_kills(kills, len(steps) + 1, random.Random(seed))

        daemon = scenario.start_daemon()
        for index, batch in enumerate(steps):
            apply_batch = functools.partial(_apply, l1, batch)
            daemon = _run_step(scenario, store, daemon, plan.get(index, []), apply_batch)
        resolve = {f"snow:{l1.sys_ids[p.number]}": p.l2_resolves for p in sample if p.escalates}
        work = functools.partial(l2.work, resolve)
        daemon = _run_step(scenario, store, daemon, plan.get(len(steps), []), work)
        scenario.settle(store, catch_up=True)
        scenario.reconnect_agents()

        result = CrashResult(kills=sum(len(k) for k in plan.values()))
        _tally(scenario, sample, l1, l2, result)
        result.problems.extend(_dead_events(store))
        result.seconds = time.monotonic() - started
        return result
    finally:
        store.close()
        scenario.stop()


def _apply(l1: L1Replay, batch: list[tuple[PlannedIncident, int]]) -> None:
    for planned, index in batch:
        l1.apply(planned, index)


def _run_step(
    scenario: Scenario, store: Store, daemon: Daemon, kills: list[Kill], step: Callable[[], None]
) -> Daemon:
    """Make one step's changes, killing and restarting the daemon as planned, then settle."""
    scenario.reconnect_agents()
    remaining = list(kills)
    if remaining and remaining[0].before_step:
        daemon.kill()
        step()
        time.sleep(DOWN_SECONDS)
        daemon = scenario.start_daemon()
        remaining.pop(0)
    else:
        step()
    for kill in remaining:
        time.sleep(kill.delay)
        daemon.kill()
        daemon = scenario.start_daemon()
    scenario.settle(store, catch_up=bool(kills))
    return daemon


# -- checking both emulators ------------------------------------------------------------


def _tally(
    scenario: Scenario,
    sample: list[PlannedIncident],
    l1: L1Replay,
    l2: L2Agent,
    result: CrashResult,
) -> None:
    """Count what is missing (lost) and what exists more than once (duplicates)."""
    issues = scenario.l2.search("project = L2 ORDER BY key ASC")
    by_correlation: dict[str, list[str]] = {}
    for issue in issues:
        correlation = issue["fields"].get(CORRELATION_FIELD) or ""
        by_correlation.setdefault(correlation, []).append(issue["key"])

    for planned in sample:
        sys_id = l1.sys_ids[planned.number]
        keys = by_correlation.get(f"snow:{sys_id}", [])
        if not planned.escalates:
            _expect(result, len(keys), 0, f"{planned.number}: JSM requests of an L1-only incident")
            continue
        _expect(result, len(keys), 1, f"{planned.number}: JSM requests")
        if keys:
            _check_pair(scenario, planned, sys_id, keys[0], l2, result)


def _check_pair(
    scenario: Scenario,
    planned: PlannedIncident,
    sys_id: str,
    key: str,
    l2: L2Agent,
    result: CrashResult,
) -> None:
    incident = scenario.l1.get_incident(sys_id)
    journal = scenario.l1.list_journal(sys_id)
    comments = [
        (adf_to_text(item["body"]) or "", bool(item["jsdPublic"]))
        for item in scenario.l2.get_issue(key)["fields"]["comment"]["comments"]
    ]
    name = f"{planned.number}/{key}"
    _expect(result, int(incident.get("correlation_id") == key), 1, f"{name}: correlation key")

    for entry in journal:
        if entry.get("sys_created_by") != "agent.l1":
            continue
        text, public = entry["value"], entry["element"] == "comments"
        copies = sum(text in body and shown == public for body, shown in comments)
        _expect(result, copies, 1, f"{name}: copies in JSM of L1 {entry['element']}")
        echoes = sum(text in other["value"] for other in journal)
        _expect(result, echoes, 1, f"{name}: entries in ServiceNow with L1 {entry['element']}")

    replies = [(L2_PUBLIC_REPLY, "comments"), (L2_INTERNAL_NOTE, "work_notes")]
    resolved = key in l2.resolved
    if resolved:
        replies.append((L2_RESOLUTION_REPLY, "comments"))
    for text, element in replies:
        copies = sum(text in entry["value"] and entry["element"] == element for entry in journal)
        _expect(result, copies, 1, f"{name}: copies in ServiceNow of L2 {element}")
        echoes = sum(text in body for body, _shown in comments)
        _expect(result, echoes, 1, f"{name}: comments in JSM with L2 {element}")

    expected_state = RESOLVED_STATE if resolved else IN_PROGRESS_STATE
    state = incident.get("state")
    _expect(result, int(state == expected_state), 1, f"{name}: ServiceNow state {state}")


def _expect(result: CrashResult, found: int, expected: int, what: str) -> None:
    """Count a shortfall as lost and a surplus as duplicates, and describe either."""
    if found < expected:
        result.lost += expected - found
        result.problems.append(f"lost: {what}: found {found}, expected {expected}")
    elif found > expected:
        result.duplicates += found - expected
        result.problems.append(f"duplicate: {what}: found {found}, expected {expected}")


def _dead_events(store: Store) -> list[str]:
    return [
        f"dead event {event.id} ({event.connector} {event.ticket_id}): {event.last_error}"
        for event in store.list_events(status="dead", limit=1000)
    ]


# -- command line -------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.crash",
        description="Kill the daemon with SIGKILL at random points of a replayed scenario "
        "and count lost and duplicated syncs.",
    )
    parser.add_argument("--kills", type=int, default=20, help="SIGKILLs to send (default 20)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the kill points (default 1)")
    parser.add_argument(
        "--incidents",
        type=int,
        default=DEFAULT_INCIDENTS,
        help=f"incidents to replay (default {DEFAULT_INCIDENTS})",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the work folder with the store and daemon log"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the bench; print problems on stderr and the counts as the last line on stdout."""
    args = _parser().parse_args(argv)
    if args.kills < 0 or args.incidents < 1:
        print("--kills must be 0 or more and --incidents 1 or more", file=sys.stderr)
        return 2
    configure_logging("error")
    workdir = Path(tempfile.mkdtemp(prefix="tierbridge-crash-"))
    try:
        result = run_crash(args.kills, args.seed, args.incidents, workdir)
    finally:
        if args.keep:
            print(f"store and daemon log kept in {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    for problem in result.problems:
        print(problem, file=sys.stderr)
    print(f"replayed {args.incidents} incidents in {result.seconds:.1f} s", file=sys.stderr)
    sys.stderr.flush()
    print(f"kills={result.kills} lost={result.lost} duplicates={result.duplicates}", flush=True)
    return 1 if result.lost or result.duplicates else 0


if __name__ == "__main__":
    sys.exit(main())
