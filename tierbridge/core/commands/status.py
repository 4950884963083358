"""`tierbridge status`: per connector, whether polls succeed, throttling, queue and dead letters."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from tierbridge.core.commands._common import (
    EXIT_FAILED,
    add_config_argument,
    format_table,
    opened_store,
    run_reported,
)

if TYPE_CHECKING:
    from tierbridge.core.ops.status import ConnectorStatus, QueueStatus

__all__ = ["register"]

_HEADERS = (
    "CONNECTOR",
    "TIER",
    "HEALTH",
    "LAST POLL",
    "THROTTLED UNTIL",
    "QUEUE",
    "OLDEST",
    "DEAD",
)


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "status",
        help="show each connector's poll health, throttling, queue depth and dead letters; "
        "exit 1 if one is unhealthy",
    )
    add_config_argument(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    return run_reported(lambda: _show(args))


def _show(args: argparse.Namespace) -> int:
    from tierbridge.core.ops.status import connector_statuses, queue_status

    now = datetime.now(UTC)
    with opened_store(args.config) as (config, store):
        connectors = connector_statuses(config, store, now)
        queue = queue_status(store, now)

    if args.json:
        print(json.dumps(_as_json(connectors, queue, now), indent=2))
    else:
        print(_as_text(connectors, queue))
    return 0 if all(status.healthy for status in connectors) else EXIT_FAILED


def _as_json(
    connectors: list[ConnectorStatus], queue: QueueStatus, now: datetime
) -> dict[str, object]:
    return {
        "at": now.isoformat(),
        "connectors": [status.as_json() for status in connectors],
        "queue": {
            "depth": queue.depth,
            "oldest_pending": queue.oldest_pending.isoformat() if queue.oldest_pending else None,
            "lag_seconds": round(queue.lag_seconds, 3),
            "dead_letters": queue.dead_letters,
            "by_status": queue.by_status,
        },
    }


def _time(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value is not None else "-"


def _as_text(connectors: list[ConnectorStatus], queue: QueueStatus) -> str:
    rows = [
        (
            status.connector,
            status.tier or "-",
            "ok" if status.healthy else f"UNHEALTHY: {status.reason}",
            _time(status.last_poll),
            _time(status.throttled_until),
            str(status.queue_depth),
            _time(status.oldest_pending),
            str(status.dead_letters),
        )
        for status in connectors
    ]
    summary = (
        f"queue: {queue.depth} waiting, lag {queue.lag_seconds:.0f} s, "
        f"{queue.dead_letters} dead letters"
    )
    return format_table(_HEADERS, rows) + "\n\n" + summary
