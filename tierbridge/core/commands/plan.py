"""`tierbridge plan`: after a config or mapping change, list what a resync would write; --apply writes it."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from tierbridge.core.commands._common import (
    EXIT_FAILED,
    add_config_argument,
    opened_runtime,
    run_reported,
)

if TYPE_CHECKING:
    from tierbridge.core.ops.plan import AppliedWrite, PlannedWrite

__all__ = ["register"]


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "plan",
        help="list, per linked ticket and field, what the current config and mappings would "
        "change on each side; --apply writes it",
    )
    add_config_argument(parser)
    parser.add_argument(
        "--apply",
        action="store_true",
        help="write the planned changes through the engine's confirmed writes",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object a line")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    return run_reported(lambda: _plan(args))


def _plan(args: argparse.Namespace) -> int:
    from tierbridge.core.ops.plan import apply_plan, plan_resync

    with opened_runtime(args.config) as runtime:
        plan = plan_resync(runtime)
        _print_plan(plan, as_json=args.json)
        if not args.apply:
            return EXIT_FAILED if any(planned.errors for planned in plan) else 0
        results = apply_plan(runtime, plan)
    _print_results(results, as_json=args.json)
    failed = any(result.error for result in results) or any(p.errors for p in plan)
    return EXIT_FAILED if failed else 0


def _print_plan(plan: list[PlannedWrite], *, as_json: bool) -> None:
    if as_json:
        for planned in plan:
            print(json.dumps({"planned": planned.as_json()}))
        return

    for planned in plan:
        item = planned.as_json()
        print(f"link {planned.link_id}: {item['source']} -> {item['target']} ({planned.direction})")
        for change in planned.changes:
            native = ", ".join(f"{k} = {json.dumps(v)}" for k, v in change.native.items())
            print(
                f"  {change.field}: {json.dumps(change.current)} -> {json.dumps(change.wanted)}  writes {native}"
            )
        for name in planned.held:
            print(f"  {name}: held; its ownership is `hold`, so a person settles it")
        for error in planned.errors:
            print(f"  error: {error}")
    writes = sum(len(planned.changes) for planned in plan)
    tickets = len({(p.target.connector, p.target.ticket_id) for p in plan if p.changes})
    print(f"{writes} field writes planned on {tickets} tickets")


def _print_results(results: list[AppliedWrite], *, as_json: bool) -> None:
    for result in results:
        target = result.planned.as_json()["target"]
        if as_json:
            print(
                json.dumps(
                    {
                        "applied": {
                            "target": target,
                            "written": result.written,
                            "error": result.error,
                        }
                    }
                )
            )
        elif result.error:
            print(f"failed {target}: {result.error}")
        else:
            print(f"wrote {target}: {', '.join(result.written) or 'nothing (already current)'}")
