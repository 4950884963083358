"""`tierbridge log`: the sync log for on-call, as a table or as JSON lines, optionally followed."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from tierbridge.core.commands._common import (
    add_config_argument,
    format_table,
    opened_store,
    parse_time,
    run_reported,
)

if TYPE_CHECKING:
    from tierbridge.core.store import SyncLogRow

__all__ = ["register"]

_OUTCOMES = ("ok", "skipped", "failed")


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "log", help="show the sync log: what the daemon did to each ticket, and why"
    )
    add_config_argument(parser)
    parser.add_argument(
        "--ticket",
        help="only this ticket and the tickets linked to it: CONNECTOR:ID, or an id or key",
    )
    parser.add_argument("--connector", help="only rows whose source ticket is in this connector")
    parser.add_argument("--outcome", choices=_OUTCOMES, help="only rows with this outcome")
    parser.add_argument(
        "--since", type=parse_time, help="only rows at or after this ISO 8601 time (UTC if no zone)"
    )
    parser.add_argument(
        "--until", type=parse_time, help="only rows before this ISO 8601 time (UTC if no zone)"
    )
    parser.add_argument(
        "--limit", type=int, default=50, help="newest rows to show first (default 50)"
    )
    parser.add_argument(
        "--follow", action="store_true", help="keep printing new rows until interrupted"
    )
    parser.add_argument(
        "--interval",
        type=float,
        default=1.0,
        help="seconds between checks for new rows with --follow (default 1)",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object a line")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    return run_reported(lambda: _show(args))


def _show(args: argparse.Namespace) -> int:
    from tierbridge.core.ops.synclog import LogFilter, follow_rows, recent_rows

    with opened_store(args.config) as (_config, store):
        filters = LogFilter(
            ticket=args.ticket,
            connector=args.connector,
            outcome=args.outcome,
            since=args.since,
            until=args.until,
        ).resolved(store)
        rows = recent_rows(store, filters, args.limit)
        _print(rows, as_json=args.json, header=True)
        if not rows and not args.json and not args.follow:
            print("no sync log rows match")
        if not args.follow:
            return 0

        last = rows[-1] if rows else None
        try:
            for row in follow_rows(store, filters, last, interval=args.interval):
                _print([row], as_json=args.json, header=False)
        except KeyboardInterrupt:
            return 0
    return 0


def _print(rows: list[SyncLogRow], *, as_json: bool, header: bool) -> None:
    from tierbridge.core.ops.synclog import HEADERS, row_cells, row_json

    if as_json:
        for row in rows:
            print(json.dumps(row_json(row)), flush=True)
        return
    if not rows:
        return
    table = format_table(HEADERS, [row_cells(row) for row in rows])
    lines = table.splitlines()
    print("\n".join(lines if header else lines[1:]), flush=True)
