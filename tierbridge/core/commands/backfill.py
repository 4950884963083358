"""`tierbridge backfill`: sync the tickets that existed before the daemon, resumable."""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from tierbridge.core.commands._common import (
    add_config_argument,
    opened_runtime,
    parse_time,
    run_reported,
)

__all__ = ["ProgressBar", "register"]


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "backfill",
        help="sync every ticket of a connector changed since a date; resumes after an interruption",
    )
    add_config_argument(parser)
    parser.add_argument("--connector", required=True, help="the connector whose tickets to sync")
    parser.add_argument(
        "--since",
        type=parse_time,
        required=True,
        help="ISO 8601 date or time; tickets changed at or after it are synced (UTC if no zone)",
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=50,
        help="tickets processed between two saves of the progress (default 50)",
    )
    parser.add_argument(
        "--restart", action="store_true", help="ignore saved progress and start at --since"
    )
    parser.set_defaults(func=_run)


class ProgressBar:
    """A one-line progress bar on a terminal stream, redrawn in place with a carriage return."""

    def __init__(self, stream: TextIO, width: int = 30) -> None:
        self._stream = stream
        self._width = width

    def __call__(self, done: int, total: int) -> None:
        filled = self._width * done // total if total else self._width
        bar = "#" * filled + "-" * (self._width - filled)
        self._stream.write(f"\r[{bar}] {done}/{total} tickets")
        if done >= total:
            self._stream.write("\n")
        self._stream.flush()


def _run(args: argparse.Namespace) -> int:
    if args.batch_size < 1:
        print("error: --batch-size must be at least 1", file=sys.stderr)
        return 2
    return run_reported(lambda: _backfill(args))


def _backfill(args: argparse.Namespace) -> int:
    from tierbridge.core.ops.backfill import backfill

    with opened_runtime(args.config) as runtime:
        result = backfill(
            runtime,
            args.connector,
            args.since,
            batch_size=args.batch_size,
            restart=args.restart,
            progress=ProgressBar(sys.stderr),
        )
    start = "resumed at" if result.resumed else "read from"
    print(
        f"{result.connector}: {start} {result.started_at.isoformat()}, "
        f"{result.read} tickets read, {result.queued} events queued, {result.processed} processed"
    )
    if result.waiting:
        print(f"{result.waiting} events wait in the inbox for a retry; the daemon processes them")
    return 0
