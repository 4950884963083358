"""`python -m bench.history --seeds N`: check two-way sync against seeded random histories.

Each seed plays a random scenario on the ServiceNow (L1) and JSM (L2) emulators with the
real engine. People open incidents that escalate, edit them, move statuses and comment on
both sides. Meanwhile webhooks are dropped, duplicated, delayed and reordered, polls
recover what was lost, and the daemon restarts or crashes around its writes. After the
scenario settles, an oracle checks for lost updates, regressions and duplicates (see
`bench._history.oracle`).

The failing seeds go to stderr with a short reason each; the last line on stdout is
`seeds=N lost=L regressions=R duplicates=D`, and the exit status is 1 if any count is above
zero. `--workers K` splits the seeds over K processes, each with its own emulators.
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

import structlog

__all__ = ["SeedOutcome", "check_seeds", "main"]

_KINDS = ("lost", "regression", "duplicate")


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


def check_seeds(seeds: Sequence[int], pair: str = "servicenow-jsm") -> list[SeedOutcome]:
    """Play and judge each seed on one pair of emulators started for the purpose."""
    # Imported here so that `--help` and the worker pool start fast.
    from bench._history.oracle import judge
    from bench._history.scenario import play
    from bench._history.world import World

    _quiet_logging()
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="tierbridge-history-", dir=_scratch()) as workdir:
        world = World.start(Path(workdir), pair)
        try:
            for seed in seeds:
                outcome = SeedOutcome(seed)
                try:
                    run = play(world, seed)
                    findings = judge(run)
                    run.rt.close()
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
    parser.add_argument("--pair", default="servicenow-jsm", help="systems to connect")
    args = parser.parse_args(argv)
    if args.seeds < 1 or args.workers < 1:
        parser.error("--seeds and --workers must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    seeds = list(range(args.start, args.start + args.seeds))
    started = time.monotonic()
    if args.workers == 1:
        outcomes = check_seeds(seeds, args.pair)
    else:
        context = multiprocessing.get_context("spawn")
        with context.Pool(args.workers) as pool:
            parts = pool.starmap(
                check_seeds, [(part, args.pair) for part in _split(seeds, args.workers)]
            )
        outcomes = sorted((o for part in parts for o in part), key=lambda o: o.seed)

    totals: Counter[str] = Counter()
    for outcome in outcomes:
        totals.update({kind: outcome.counts[kind] for kind in _KINDS})
        if outcome.failed:
            print(f"seed {outcome.seed} failed:", file=sys.stderr)
            for reason in outcome.reasons:
                print(f"  {reason}", file=sys.stderr)
    elapsed = time.monotonic() - started
    print(f"checked {len(outcomes)} seeds in {elapsed:.1f} s", file=sys.stderr)
    print(
        f"seeds={len(outcomes)} lost={totals['lost']} "
        f"regressions={totals['regression']} duplicates={totals['duplicate']}"
    )
    return 1 if any(totals[kind] for kind in _KINDS) else 0


if __name__ == "__main__":
    raise SystemExit(main())
