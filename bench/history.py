"""`python -m bench.history --seeds N`: check two-way sync against seeded random histories.

Each seed plays a random scenario on the emulators of one pair of systems with the real
engine: `servicenow-jsm` (the default), `salesforce-jsm` or `dynamics-servicenow`, each
configured as its demo scenario. People open tickets at L1 that escalate, edit them, move
statuses and comment on both sides. Meanwhile webhooks are dropped, duplicated, delayed
and reordered, polls recover what was lost, and the daemon restarts or crashes around its
writes. After the scenario settles, an oracle checks for lost updates, regressions and
duplicates (see `bench._history.oracle`).

The failing seeds go to stderr with a short reason each; the last line on stdout is
`seeds=N lost=L regressions=R duplicates=D`, and the exit status is 1 if any count is above
zero. `--pair all` checks every pair in turn: one such line per pair, prefixed with the
pair's name, then the total over all pairs. `--workers K` splits the seeds over K
processes, each with its own emulators.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import requests
import structlog

from bench._history.actors import PAIRS

if TYPE_CHECKING:
    from bench._history.oracle import Finding
    from bench._history.world import World

__all__ = ["SeedOutcome", "check_seeds", "main"]

_KINDS = ("lost", "regression", "duplicate")
#: The `--pair` value that checks every pair in turn.
ALL_PAIRS = "all"


@dataclass
class SeedOutcome:
    """Findings of the oracle in one seed: counts per kind and the reasons."""

    seed: int
    counts: Counter[str] = field(default_factory=Counter)
    reasons: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(self.counts[kind] for kind in _KINDS)


def _quiet_logging() -> None:
    """Drop the daemon's log lines: thousands per seed, and the oracle reads the store."""
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL))
    logging.getLogger().setLevel(logging.CRITICAL)


def _scratch() -> str | None:
    """Return a memory-backed folder for the stores where there is one.

    The stores are thrown away after each seed, and on a disk the fsync of every commit
    makes a seed take about three times as long.
    """
    shm = Path("/dev/shm")  # noqa: S108 - a folder of this process's own, made below
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None


def _judge_seed(world: World, seed: int) -> list[Finding]:
    """Play and judge one seed, and play it once more if a person's request lost its connection.

    The emulators close keep-alive connections after 5 s idle (uvicorn's default), so on a
    busy machine a person's request may go out on one just as it closes and fail with
    ConnectionError. The connectors retry such failures, and the people's HTTP helpers do
    not. A seed replays the same, so the second play judges the same history.
    """
    from bench._history.oracle import judge
    from bench._history.scenario import play

    try:
        run = play(world, seed)
    except requests.ConnectionError:
        run = play(world, seed)
    try:
        return judge(run)
    finally:
        run.rt.close()


def check_seeds(seeds: Sequence[int], pair: str = "servicenow-jsm") -> list[SeedOutcome]:
    """Play and judge each seed on one pair of emulators started for the purpose."""
    # Imported here so that `--help` and the worker pool start fast.
    from bench._history.world import World

    _quiet_logging()
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="tierbridge-history-", dir=_scratch()) as workdir:
        world = World.start(Path(workdir), pair)
        try:
            for seed in seeds:
                outcome = SeedOutcome(seed)
                try:
                    findings = _judge_seed(world, seed)
                except Exception as exc:  # a crash of the checker is a failed seed, not an abort
                    outcome.counts["lost"] += 1
                    outcome.reasons.append(f"scenario failed: {exc!r}")
                else:
                    for finding in findings:
                        outcome.counts[finding.kind] += 1
                        outcome.reasons.append(f"{finding.kind}: {finding.reason}")
                world.drop_store(seed)
                outcomes.append(outcome)
        finally:
            world.stop()
    return outcomes


def _split(seeds: list[int], workers: int) -> list[list[int]]:
    return [seeds[index::workers] for index in range(workers)]


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.history", description=__doc__)
    parser.add_argument("--seeds", type=int, default=200, help="number of seeds to check")
    parser.add_argument("--start", type=int, default=0, help="first seed (default 0)")
    parser.add_argument(
        "--workers", type=int, default=1, help="processes, each with its own emulators"
    )
    parser.add_argument(
        "--pair",
        default="servicenow-jsm",
        choices=[*PAIRS, ALL_PAIRS],
        help=f"systems to connect, or {ALL_PAIRS!r} for each pair in turn",
    )
    args = parser.parse_args(argv)
    if args.seeds < 1 or args.workers < 1:
        parser.error("--seeds and --workers must be at least 1")
    return args


def _check_pair(pair: str, seeds: list[int], workers: int) -> list[SeedOutcome]:
    """Check the seeds on one pair, split over `workers` processes when more than one."""
    if workers == 1:
        return check_seeds(seeds, pair)
    context = multiprocessing.get_context("spawn")
    with context.Pool(workers) as pool:
        parts = pool.starmap(check_seeds, [(part, pair) for part in _split(seeds, workers)])
    return sorted((o for part in parts for o in part), key=lambda o: o.seed)


def _report_failures(outcomes: list[SeedOutcome], prefix: str) -> Counter[str]:
    """Print each failed seed's reasons to stderr and return the counts per kind."""
    totals: Counter[str] = Counter()
    for outcome in outcomes:
        totals.update({kind: outcome.counts[kind] for kind in _KINDS})
        if outcome.failed:
            print(f"{prefix}seed {outcome.seed} failed:", file=sys.stderr)
            for reason in outcome.reasons:
                print(f"  {reason}", file=sys.stderr)
    return totals


def _result_line(seeds: int, totals: Counter[str]) -> str:
    return (
        f"seeds={seeds} lost={totals['lost']} "
        f"regressions={totals['regression']} duplicates={totals['duplicate']}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    seeds = list(range(args.start, args.start + args.seeds))
    pairs = list(PAIRS) if args.pair == ALL_PAIRS else [args.pair]
    started = time.monotonic()
    totals: Counter[str] = Counter()
    checked = 0
    for pair in pairs:
        outcomes = _check_pair(pair, seeds, args.workers)
        prefix = f"{pair} " if args.pair == ALL_PAIRS else ""
        found = _report_failures(outcomes, prefix)
        totals.update(found)
        checked += len(outcomes)
        if args.pair == ALL_PAIRS:
            print(f"{prefix}{_result_line(len(outcomes), found)}", flush=True)

    elapsed = time.monotonic() - started
    print(f"checked {checked} seeds in {elapsed:.1f} s", file=sys.stderr)
    print(_result_line(checked, totals))
    return 1 if any(totals[kind] for kind in _KINDS) else 0


if __name__ == "__main__":
    raise SystemExit(main())
