"""Micro-benchmark of `Store.claim_event`: claims per second on an inbox with a backlog.

`python -m bench.claim` fills a new store with `--events` pending events, spread round-robin
over `--tickets` tickets of two connectors, after `--done` finished ones, and times the
claims of one thread in three cases:

- `due`: every event is due, and each claimed event is completed (outside the timing), so
  the next claim finds the next ticket's event. This is the claim of a busy worker.
- `waiting`: every event waits for a retry an hour ahead, so each claim finds nothing. This
  is the claim of an idle worker while a target system is down.
- `blocked`: the oldest event of each ticket holds a live lease and the rest wait behind
  it, so each claim finds nothing after checking the whole backlog. This is the worst case.

`--store` takes a PostgreSQL URL. The bench then creates a new schema there, runs ANALYZE
after loading it and drops it at the end. The default is a SQLite file in a temporary
folder, which gets no ANALYZE, as the daemon's store runs none. The CPU figure is this
process's thread time, so on PostgreSQL it leaves out the server's work. `--connector`
claims only that connector's events, as a tenant's runner does.

    python -m bench.claim                          # SQLite, 10,000 pending events
    python -m bench.claim --store postgresql+psycopg://postgres@127.0.0.1:5432/test
    python -m bench.claim --done 100000 --cases due,waiting
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, text

from bench.store import bench_store
from tierbridge.core.logs import configure_logging
from tierbridge.core.store import Store
from tierbridge.core.store.tables import InboxEvent

__all__ = ["main"]

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
LEASE_SECONDS = 60.0
_CONNECTORS = ("snow", "jsm")
_INSERT_BATCH = 5_000


@dataclass(frozen=True)
class Backlog:
    """Inbox contents of a case: the pending events, and the finished history before them."""

    events: int
    tickets: int
    done: int


@dataclass(frozen=True)
class CaseResult:
    """Timings of the claims of one case, in seconds each."""

    name: str
    durations: list[float]
    cpu_seconds: float
    claimed: int

    def line(self) -> str:
        """Format the case as one row of the printed table."""
        count = len(self.durations)
        total = sum(self.durations)
        ordered = sorted(self.durations)
        p99 = ordered[min(count - 1, int(count * 0.99))]
        return (
            f"{self.name:8} {count:6} {self.claimed:8} {count / total:10.0f} "
            f"{statistics.median(ordered) * 1000:8.3f} {p99 * 1000:8.3f} "
            f"{self.cpu_seconds / count * 1000:8.3f}"
        )


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.claim", description=__doc__.splitlines()[0] if __doc__ else None
    )
    add = parser.add_argument
    add("--store", default=None, help="PostgreSQL URL to create a schema in (default SQLite)")
    add("--events", type=int, default=10_000, help="pending events in the inbox")
    add("--tickets", type=int, default=1_000, help="tickets the events are spread over")
    add("--done", type=int, default=0, help="finished events stored before the pending ones")
    add("--claims", type=int, default=1_000, help="claims timed per case")
    add("--max-seconds", type=float, default=20.0, help="stop a case after this many seconds")
    add("--cases", default="due,waiting,blocked", help="comma-separated cases to run")
    add("--connector", default=None, help="claim only this connector's events, as a tenant")
    return parser.parse_args(argv)


def _event(index: int, backlog: Backlog, **values: Any) -> dict[str, Any]:
    ticket = index % backlog.tickets
    row = {
        "connector": _CONNECTORS[ticket % 2],
        "delivery_id": f"bench-{index}",
        "ticket_id": f"t{ticket}",
        "kind": "updated",
        "version": None,
        "payload": {"n": index},
        "received_at": NOW - timedelta(minutes=1),
        "available_at": NOW - timedelta(minutes=1),
        "status": "pending",
        "attempts": 0,
        "lease_until": None,
        "last_error": None,
        "finished_at": None,
    }
    row.update(values)
    return row


def _rows(case: str, backlog: Backlog) -> Iterator[dict[str, Any]]:
    """Yield the inbox rows of `case`: the finished history, then the pending backlog."""
    for index in range(backlog.done):
        yield _event(index, backlog, status="done", attempts=1, finished_at=NOW)
    for index in range(backlog.done, backlog.done + backlog.events):
        if case == "waiting":
            yield _event(index, backlog, available_at=NOW + timedelta(hours=1))
        elif case == "blocked" and index - backlog.done < backlog.tickets:
            leased = NOW + timedelta(hours=1)
            yield _event(index, backlog, status="processing", attempts=1, lease_until=leased)
        else:
            yield _event(index, backlog)


def _load(url: str, case: str, backlog: Backlog) -> None:
    """Insert the rows of `case` in batches, then ANALYZE on PostgreSQL."""
    engine = create_engine(url)
    try:
        batch: list[dict[str, Any]] = []
        with engine.begin() as connection:
            for row in _rows(case, backlog):
                batch.append(row)
                if len(batch) == _INSERT_BATCH:
                    connection.execute(insert(InboxEvent), batch)
                    batch = []
            if batch:
                connection.execute(insert(InboxEvent), batch)
        if engine.dialect.name == "postgresql":
            with engine.begin() as connection:
                connection.execute(text("ANALYZE inbox"))
    finally:
        engine.dispose()


def _time_claims(store: Store, case: str, args: argparse.Namespace) -> CaseResult:
    """Claim up to `args.claims` times. A claimed event is completed outside the timing."""
    only = [args.connector] if args.connector else None
    for _ in range(20):  # warms up the statement caches and psycopg's prepared statements
        event = store.claim_event(NOW, LEASE_SECONDS, connectors=only)
        if event is not None:
            store.complete_event(event.id, now=NOW)

    durations: list[float] = []
    claimed = 0
    cpu_seconds = 0.0
    deadline = time.monotonic() + args.max_seconds
    while len(durations) < args.claims and time.monotonic() < deadline:
        cpu_started, started = time.thread_time(), time.perf_counter()
        event = store.claim_event(NOW, LEASE_SECONDS, connectors=only)
        durations.append(time.perf_counter() - started)
        cpu_seconds += time.thread_time() - cpu_started
        if event is not None:
            claimed += 1
            store.complete_event(event.id, now=NOW)
    return CaseResult(case, durations, cpu_seconds, claimed)


@contextmanager
def _case_store(postgres_url: str | None) -> Iterator[str]:
    with (
        tempfile.TemporaryDirectory(prefix="tb-claim-") as workdir,
        bench_store(postgres_url, Path(workdir)) as url,
    ):
        yield url


def run_case(args: argparse.Namespace, case: str) -> CaseResult:
    """Load a new store for `case` and time its claims."""
    backlog = Backlog(events=args.events, tickets=args.tickets, done=args.done)
    with _case_store(args.store) as url:
        store = Store.open(url)
        try:
            _load(url, case, backlog)
            return _time_claims(store, case, args)
        finally:
            store.close()


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    configure_logging("warning")
    backend = "postgresql" if args.store else "sqlite"
    only = f", claiming only {args.connector}'s" if args.connector else ""

    print(
        f"{backend}: {args.events} pending events on {args.tickets} tickets of "
        f"{' and '.join(_CONNECTORS)}, {args.done} finished before them{only}"
    )
    print(
        f"{'case':8} {'claims':>6} {'claimed':>8} {'claims/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'cpu ms':>8}"
    )
    for case in args.cases.split(","):
        print(run_case(args, case).line(), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
