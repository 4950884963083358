"""`python -m bench.cluster --workers 3`: the procrastinate runner on several workers.

The bench serves a ServiceNow emulator (L1) and a JSM emulator (L2) in this process. Two
webhook nodes (`tierbridge run` with `runner: procrastinate`) and `--workers` workers
(`tierbridge worker`) run as child processes on one PostgreSQL database, where the store
and procrastinate's jobs each get a new schema, dropped at the end. The emulators'
notices go through a relay that posts each one twice, all in a shuffled order,
alternating between the two nodes. The demo's incidents are replayed batch by batch, and
then the L2 agent answers them. `--changes N` then adds N comments at once over the
incidents and measures how fast the workers sync them. During that burst (or halfway
through the replay with `--changes 0`), a worker that is running a ticket job is killed
with SIGKILL and a new one started.

The last line is `workers=W lost=L duplicates=D order_violations=O polls_per_period_max=P`;
the exit status is 0 only for lost=0, duplicates=0, order_violations=0 and
polls_per_period_max=1.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bench.cluster_run import Cluster, replay
from tierbridge.core.logs import configure_logging

__all__ = ["main"]

DEFAULT_INCIDENTS = 8
DEFAULT_CHANGES = 40


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.cluster",
        description="Replay a scenario through webhook nodes and procrastinate workers on "
        "PostgreSQL, with duplicated and reordered webhooks and one worker killed, and count "
        "lost and duplicated syncs, order violations and polls per period.",
    )
    parser.add_argument("--workers", type=int, default=3, help="worker processes (default 3)")
    parser.add_argument(
        "--incidents",
        type=int,
        default=DEFAULT_INCIDENTS,
        help=f"incidents to replay (default {DEFAULT_INCIDENTS})",
    )
    parser.add_argument(
        "--changes",
        type=int,
        default=DEFAULT_CHANGES,
        help="comments added at once after the replay, to measure throughput "
        f"(default {DEFAULT_CHANGES}; 0 skips the measurement)",
    )
    parser.add_argument(
        "--no-kill", action="store_true", help="do not kill a worker (for throughput runs)"
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the webhook order (default 1)")
    parser.add_argument(
        "--keep", action="store_true", help="keep the work folder, logs and database schemas"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the bench; print problems on stderr and the counts as the last line on stdout."""
    args = _parser().parse_args(argv)
    if args.workers < 1 or args.incidents < 1 or args.changes < 0:
        print("--workers and --incidents must be 1 or more, --changes 0 or more", file=sys.stderr)
        return 2
    configure_logging("error")
    workdir = Path(tempfile.mkdtemp(prefix="tierbridge-cluster-"))
    cluster = Cluster.start(workdir, args.workers, random.Random(args.seed))
    try:
        outcome = replay(cluster, args.incidents, args.changes, kill=not args.no_kill)
    finally:
        cluster.stop(drop_schemas=not args.keep)
        if args.keep:
            print(f"logs kept in {workdir}; schemas {cluster.schemas}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    for problem in outcome.problems:
        print(problem, file=sys.stderr)
    for line in outcome.notes:
        print(line, file=sys.stderr)
    sys.stderr.flush()
    print(
        f"workers={args.workers} lost={outcome.lost} duplicates={outcome.duplicates} "
        f"order_violations={outcome.order_violations} "
        f"polls_per_period_max={outcome.polls_per_period_max}",
        flush=True,
    )
    clean = not (outcome.lost or outcome.duplicates or outcome.order_violations)
    return 0 if clean and outcome.polls_per_period_max == 1 else 1


if __name__ == "__main__":
    sys.exit(main())
