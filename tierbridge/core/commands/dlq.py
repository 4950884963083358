"""`tierbridge dlq`: list, show, retry or drop events parked in the dead-letter queue.

An event is parked (status `dead`) when its failure needs a person: a value without a
mapping, a payload the target rejects, or a transient failure that outlasted every retry.
Other tickets go on meanwhile. Fix the cause first (the daemon reads mappings and config at
start, so restart it after changing them), then `retry` the event. `drop` deletes an event
that should never run. It keeps a `dropped` row in the sync log for the audit trail, but
not the payload. These commands work on the store alone, so they also run beside the daemon.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tierbridge.core.commands._store_access import EXIT_FAILED, run_with_store

if TYPE_CHECKING:
    from tierbridge.core.store import InboxRow, Store

__all__ = ["register"]

_ERROR_WIDTH = 80


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", type=Path, required=True, help="path of the YAML config file")

    dlq = commands.add_parser(
        "dlq", help="list, show, retry or drop events parked in the dead-letter queue"
    )
    actions = dlq.add_subparsers(dest="dlq_command", required=True)

    listing = actions.add_parser("list", parents=[common], help="list the dead events")
    listing.add_argument("--connector", help="only events from this connector")
    listing.add_argument(
        "--limit", type=int, default=100, help="maximum number of events to list (default 100)"
    )
    listing.add_argument("--json", action="store_true", help="one JSON object a line")
    listing.set_defaults(func=_with_store(_list))

    show = actions.add_parser(
        "show", parents=[common], help="show one event with its payload and sync log rows"
    )
    show.add_argument("id", type=int, help="event id, as `dlq list` prints it")
    show.set_defaults(func=_with_store(_show))

    retry = actions.add_parser(
        "retry", parents=[common], help="queue dead events again, with their attempts reset"
    )
    which = retry.add_mutually_exclusive_group(required=True)
    which.add_argument("id", type=int, nargs="?", help="event id, as `dlq list` prints it")
    which.add_argument("--all", action="store_true", help="every dead event")
    retry.set_defaults(func=_with_store(_retry))

    drop = actions.add_parser(
        "drop", parents=[common], help="delete a dead event, keeping a row in the sync log"
    )
    drop.add_argument("id", type=int, help="event id, as `dlq list` prints it")
    drop.set_defaults(func=_with_store(_drop))


def _with_store(
    action: Callable[[argparse.Namespace, Store], int],
) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        return run_with_store(args.config, functools.partial(action, args))

    return run


# -- actions ----------------------------------------------------------------------------


def _list(args: argparse.Namespace, store: Store) -> int:
    events = store.list_events(status="dead", limit=1_000_000)
    if args.connector:
        events = [event for event in events if event.connector == args.connector]
    events = events[: args.limit]

    if args.json:
        for event in events:
            print(json.dumps(_summary(store, event)))
        return 0
    if not events:
        print("no dead events")
        return 0
    rows = [_summary(store, event) for event in events]
    header = {
        "id": "ID",
        "connector": "CONNECTOR",
        "ticket": "TICKET",
        "attempts": "ATTEMPTS",
        "finished_at": "FINISHED (UTC)",
        "last_error": "LAST ERROR",
    }
    _print_table([header, *rows])
    return 0


def _show(args: argparse.Namespace, store: Store) -> int:
    event = store.get_event(args.id)
    if event is None:
        print(
            f"event {args.id} not found; `tierbridge dlq list` shows the dead events",
            file=sys.stderr,
        )
        return EXIT_FAILED

    summary = _summary(store, event)
    print(f"event {event.id} ({event.status})")
    print(f"  connector   {event.connector}")
    print(f"  ticket      {summary['ticket']} (id {event.ticket_id})")
    print(f"  kind        {event.kind}, version {event.version or '-'}")
    print(f"  delivery    {event.delivery_id}")
    print(f"  received    {_time(event.received_at)}")
    print(f"  attempts    {event.attempts}")
    print(f"  finished    {summary['finished_at']}")
    print(f"  last error  {event.last_error or '-'}")
    print("payload:")
    print(_indent(json.dumps(event.payload, indent=2, sort_keys=True)))

    rows = store.sync_log(connector=event.connector, ticket=event.ticket_id, limit=10_000)
    rows = sorted((row for row in rows if row.event_id == event.id), key=lambda row: row.id)
    print(f"sync log ({len(rows)} rows, oldest first):")
    for row in rows:
        target = f" -> {row.target_connector}:{row.target_ticket}" if row.target_ticket else ""
        fields = f" [{', '.join(row.fields)}]" if row.fields else ""
        print(
            f"  {_time(row.at)}  attempt {row.attempt}  {row.action} {row.outcome}{target}{fields}"
        )
        for extra in (row.detail, row.error):
            if extra:
                print(f"      {extra}")
    return 0


def _retry(args: argparse.Namespace, store: Store) -> int:
    now = datetime.now(UTC)
    if args.all:
        requeued = store.requeue_dead_events(now)
        print(f"requeued {len(requeued)} dead event{'s' if len(requeued) != 1 else ''}")
        return 0

    if not store.requeue_dead_events(now, args.id):
        return _not_dead(store, args.id, "retried")
    print(f"requeued event {args.id}; the daemon runs it again on its next claim")
    return 0


def _drop(args: argparse.Namespace, store: Store) -> int:
    dropped = store.drop_dead_event(args.id, datetime.now(UTC))
    if dropped is None:
        return _not_dead(store, args.id, "dropped")
    print(
        f"dropped event {dropped.id} ({dropped.connector} {dropped.ticket_id}); "
        "the sync log keeps a 'dropped' row for it"
    )
    return 0


def _not_dead(store: Store, event_id: int, verb: str) -> int:
    event = store.get_event(event_id)
    if event is None:
        print(
            f"event {event_id} not found; `tierbridge dlq list` shows the dead events",
            file=sys.stderr,
        )
    else:
        print(
            f"event {event_id} is {event.status}, not dead; only dead events can be {verb}",
            file=sys.stderr,
        )
    return EXIT_FAILED


# -- output -----------------------------------------------------------------------------


def _summary(store: Store, event: InboxRow) -> dict[str, Any]:
    """Return the columns of `dlq list`, with the ticket's key when the store has a ref for it."""
    ref = store.find_ref(event.connector, event.ticket_id)
    error = (event.last_error or "").splitlines()
    return {
        "id": event.id,
        "connector": event.connector,
        "ticket": (ref.ticket_key if ref is not None else None) or event.ticket_id,
        "attempts": event.attempts,
        "finished_at": _time(event.finished_at),
        "last_error": error[0] if error else "",
    }


def _print_table(rows: list[dict[str, Any]]) -> None:
    columns = list(rows[0])
    cells = [[str(row[column]) for column in columns] for row in rows]
    for line in cells:
        line[-1] = _shorten(line[-1])
    widths = [max(len(line[index]) for line in cells) for index in range(len(columns) - 1)]
    for line in cells:
        padded = [cell.ljust(width) for cell, width in zip(line, widths, strict=False)]
        print("  ".join([*padded, line[-1]]))


def _shorten(text: str) -> str:
    return text if len(text) <= _ERROR_WIDTH else text[: _ERROR_WIDTH - 3] + "..."


def _time(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if value is not None else "-"


def _indent(text: str) -> str:
    return "\n".join(f"  {line}" for line in text.splitlines())
