"""`tierbridge conflicts`: list the fields both sides changed before the daemon synced them."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from tierbridge.core.commands._common import opened_store, run_reported

__all__ = ["register"]


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "conflicts", help="list sync conflicts: fields changed on both sides since the last sync"
    )
    parser.add_argument("--config", type=Path, required=True, help="path of the YAML config file")
    parser.add_argument("--ticket", help="only this ticket (id or key, on either side)")
    parser.add_argument(
        "--held", action="store_true", help="only conflicts left for a person to settle"
    )
    parser.add_argument("--limit", type=int, default=200, help="most rows to show (default 200)")
    parser.add_argument("--json", action="store_true", help="one JSON object a line")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    return run_reported(lambda: _list(args))


def _list(args: argparse.Namespace) -> int:
    with opened_store(args.config) as (_config, store):
        rows = [
            row
            for row in store.sync_log(ticket=args.ticket, limit=max(args.limit * 20, 1000))
            if row.action == "conflict" and (not args.held or row.outcome == "skipped")
        ][: args.limit]

    for row in rows:
        item: dict[str, Any] = {
            "at": row.at.isoformat(),
            "ticket": f"{row.connector}:{row.ticket_key or row.ticket_id}",
            "target": f"{row.target_connector}:{row.target_ticket}",
            "fields": list(row.fields),
            "held": row.outcome == "skipped",
            "detail": row.detail,
        }
        if args.json:
            print(json.dumps(item))
        else:
            state = "HELD " if item["held"] else "settled"
            print(f"{item['at'][:19]}  {state}  {item['ticket']} -> {item['target']}  {row.detail}")
    if not rows and not args.json:
        print("no conflicts recorded")
    return 0
