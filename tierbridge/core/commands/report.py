"""`tierbridge report`: service KPIs per client and tier for a period, from the store."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timedelta

from tierbridge.core.commands._common import (
    add_config_argument,
    opened_store,
    parse_time,
    run_reported,
)

__all__ = ["register"]


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    report = commands.add_parser(
        "report", help="print KPIs per client and tier: escalations, SLA compliance, backlog"
    )
    add_config_argument(report)
    report.add_argument(
        "--from",
        dest="start",
        type=parse_time,
        required=True,
        help="first day or instant of the period (ISO 8601; a date is its midnight UTC)",
    )
    report.add_argument(
        "--to",
        dest="end",
        type=_period_end,
        required=True,
        help="last day of the period, included whole; or an instant, excluded",
    )
    report.add_argument("--client", help="only this client: the connector name of its L1 system")
    report.add_argument(
        "--format",
        choices=["table", "csv", "json"],
        default="table",
        help="output format (default table)",
    )
    report.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    return run_reported(lambda: _report(args))


def _report(args: argparse.Namespace) -> int:
    from tierbridge.core.report.kpi import compute_kpis
    from tierbridge.core.report.render import render

    start, end = args.start, args.end
    if end <= start:
        print(
            f"error: --to ({end.isoformat()}) must be after --from ({start.isoformat()})",
            file=sys.stderr,
        )
        return 2
    with opened_store(args.config) as (config, store):
        rows = compute_kpis(config, store, start, end, args.client)
    sys.stdout.write(render(rows, args.format, start, end))
    return 0


def _period_end(text: str) -> datetime:
    """Parse `--to`: a plain date includes that whole day, so the period ends at the next midnight."""
    moment = parse_time(text)
    return moment + timedelta(days=1) if len(text.strip()) <= len("2026-03-01") else moment
