"""Run the benchmark: the daemon's phases, then the floor's, then write the results.

A run starts both emulators in this process and `tierbridge run` as a child process, and
creates the ticket pool, which the daemon escalates to JSM. Three measured phases follow.
`light` runs at a rate far below capacity and gives the latency of one change. `steady`
runs at the goal rate and is also the soak, with RSS sampled throughout. `burst` makes its
changes at once and gives throughput and drain time. Then the daemon stops, the floor
starts on the same emulators and tickets, and the three phases run again.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import structlog

from bench.daemon import ChildProcess, DaemonSettings, free_port, tierbridge_command, write_config
from bench.phases import PhaseResult, measure
from bench.procstat import RssSampler
from bench.profiles import PROFILES
from bench.pyspy import Profiler, summarize
from bench.results import build_results, rss_summary, write_results
from bench.stack import BenchStack
from bench.store import bench_store
from tierbridge.core.logs import configure_logging
from tierbridge.core.store import Store

__all__ = ["main"]

_log = structlog.get_logger(__name__)
DEFAULT_OUTPUT = Path(__file__).parent / "results" / "latest.json"
Phases = dict[str, PhaseResult]


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Measure the daemon against local emulators and the raw-call floor. "
        "The defaults are the short run of `make bench` (3 to 5 minutes on 2 cores).",
    )
    add = parser.add_argument
    add("--profile", choices=sorted(PROFILES), default="local", help="emulator latency profile")
    add("--tickets", type=int, default=200, help="incidents escalated before measuring")
    add("--light-rate", type=float, default=5.0, help="changes per second, light phase")
    add("--light-seconds", type=float, default=10.0, help="length of the light phase")
    add("--rate", type=float, default=50.0, help="changes per second, steady phase")
    add("--steady-seconds", type=float, default=30.0, help="length of the steady phase")
    add("--soak-minutes", type=float, default=0.0, help="make the steady phase this long")
    add("--burst", type=int, default=200, help="changes made at once in the burst phase")
    add("--workers", type=int, default=8, help="worker threads of the daemon and the floor")
    add("--senders", type=int, default=8, help="threads that deliver ServiceNow notices")
    add("--rss-interval", type=float, default=2.0, help="seconds between RSS samples")
    add("--store", default=None, help="PostgreSQL URL; a new schema there (default SQLite)")
    add("--no-floor", action="store_true", help="skip the floor phases")
    add("--seed", type=int, default=7, help="seed of the latency draws")
    add("--settle-timeout", type=float, default=600.0, help="max seconds to wait per phase")
    add("--output", type=Path, default=DEFAULT_OUTPUT, help="results file")
    add("--keep", action="store_true", help="keep the work folder (logs, store)")
    add("--py-spy", type=Path, default=None, help="record the daemon's stacks with py-spy here")
    return parser.parse_args(argv)


def _start_daemon(stack: BenchStack, workdir: Path, store_url: str, workers: int) -> ChildProcess:
    port = free_port()
    settings = DaemonSettings(
        snow_url=stack.snow.base_url,
        jira_url=stack.jira.base_url,
        ca_bundle=stack.snow.ca_cert,
        store_url=store_url,
        port=port,
    )
    config = write_config(settings, workdir / "bench.yaml")
    command = [*tierbridge_command(), "run", "--config", str(config), "--workers", str(workers)]
    daemon = ChildProcess(command, stack.secrets, port, workdir / "daemon.log")
    daemon.wait_ready()
    return daemon


def _start_floor(stack: BenchStack, workdir: Path, workers: int) -> ChildProcess:
    issues = workdir / "floor-issues.json"
    issues.write_text(json.dumps(stack.issue_keys_by_sys_id()), encoding="utf-8")
    port = free_port()
    command = [sys.executable, "-m", "bench.floor", "--port", str(port), "--issues", str(issues)]
    command += ["--snow-url", stack.snow.base_url, "--jira-url", stack.jira.base_url]
    command += ["--workers", str(workers)]
    env = {**stack.secrets, "REQUESTS_CA_BUNDLE": str(stack.snow.ca_cert)}
    floor = ChildProcess(command, env, port, workdir / "floor.log")
    floor.wait_ready()
    return floor


def _warm_up(args: argparse.Namespace, stack: BenchStack, daemon: ChildProcess) -> None:
    """Create the ticket pool and wait until the daemon has escalated all of it."""
    started = time.monotonic()
    stack.load.create_tickets(args.tickets)
    if not stack.settle(daemon, args.settle_timeout):
        msg = f"the daemon did not escalate {args.tickets} incidents; see {daemon.log_path}"
        raise RuntimeError(msg)
    _log.info("pool_ready", tickets=args.tickets, seconds=round(time.monotonic() - started))


def _measure_all(
    args: argparse.Namespace, stack: BenchStack, target: ChildProcess, prefix: str
) -> Phases:
    """Run the light, steady and burst phases against `target`; keys are prefixed names."""
    steady_seconds = max(args.steady_seconds, args.soak_minutes * 60)
    drives = {
        "light": lambda: stack.load.steady(args.light_rate, args.light_seconds),
        "steady": lambda: stack.load.steady(args.rate, steady_seconds),
        "burst": lambda: stack.load.burst(args.burst),
    }
    phases: Phases = {}
    for name, drive in drives.items():
        key = f"{prefix}{name}"
        phases[key] = measure(stack, target, key, drive, settle_timeout=args.settle_timeout)
    return phases


def _daemon_phases(
    args: argparse.Namespace, stack: BenchStack, workdir: Path, store_url: str
) -> tuple[Phases, tuple[float, float], dict[str, int]]:
    """Measure the daemon; return its phases, (max RSS, RSS growth) and its sync log counts."""
    daemon = _start_daemon(stack, workdir, store_url, args.workers)
    sampler = RssSampler(daemon.pid, args.rss_interval).start()
    profiler: Profiler | None = None
    try:
        stack.point_at(daemon, jira_webhooks=True)
        _warm_up(args, stack, daemon)
        if args.py_spy:
            profiler = Profiler(daemon.pid, args.py_spy)
        phases = _measure_all(args, stack, daemon, "")
    finally:
        if profiler is not None:
            profiler.stop()
        sampler.stop()
        stack.point_at(None, jira_webhooks=False)
        daemon.stop()

    # The soak is the steady phase: the burst's high-water mark afterwards is not growth.
    steady = phases["steady"]
    soak = (steady.started_at, steady.started_at + steady.busy_seconds)
    rss = rss_summary(sampler.samples, soak)
    store = Store.open(store_url)
    try:
        actions = store.count_actions()
    finally:
        store.close()
    return phases, rss, actions


def _floor_phases(args: argparse.Namespace, stack: BenchStack, workdir: Path) -> Phases:
    floor = _start_floor(stack, workdir, args.workers)
    try:
        stack.point_at(floor, jira_webhooks=False)
        return _measure_all(args, stack, floor, "floor_")
    finally:
        stack.point_at(None, jira_webhooks=False)
        floor.stop()


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "profile": args.profile,
        "store": "postgresql" if args.store else "sqlite",
        "tickets": args.tickets,
        "light_rate": args.light_rate,
        "rate": args.rate,
        "steady_seconds": max(args.steady_seconds, args.soak_minutes * 60),
        "burst": args.burst,
        "workers": args.workers,
    }


def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Run every phase in `workdir` and return the results document."""
    profile = PROFILES[args.profile]
    stack = BenchStack.start(workdir, profile, seed=args.seed, sender_threads=args.senders)
    try:
        with bench_store(args.store, workdir) as store_url:
            phases, rss, actions = _daemon_phases(args, stack, workdir, store_url)
        if not args.no_floor:
            phases.update(_floor_phases(args, stack, workdir))
    finally:
        stack.stop()

    extra: dict[str, Any] = {"daemon_actions": actions}
    if args.py_spy:
        extra["daemon_profile"] = [
            {"frame": frame, "inclusive_pct": round(total, 1), "self_pct": round(own, 1)}
            for frame, total, own in summarize(args.py_spy, contains="tierbridge/")
        ]
    return build_results(phases, rss=rss, settings=_settings(args), extra=extra)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and write the results file; return the exit status."""
    args = _parse(argv)
    configure_logging("info", renderer="console")
    workdir = Path(tempfile.mkdtemp(prefix="tierbridge-bench-"))
    try:
        results = run(args, workdir)
        write_results(results, args.output)
    finally:
        if args.keep:
            print(f"work folder kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    headline = {key: value for key, value in results.items() if not isinstance(value, dict)}
    print(json.dumps(headline, indent=2))
    print(f"results written to {args.output}")
    return 0
