"""Counts of the cluster bench after a run: order violations and polls per period.

Lost and duplicated syncs are counted on the emulators by `bench.crash`'s checks.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg

from tierbridge.core.runners.deferral import TASK_POLL
from tierbridge.core.store import Store, SyncLogRow

__all__ = ["ORDER_TOLERANCE", "Run", "order_violations", "polls_per_period_max"]

#: Slack allowed between one event's end and the next one's start. A run's start is
#: computed as its log time minus its duration, which comes from another clock
#: (monotonic), so the two can disagree by a few microseconds.
ORDER_TOLERANCE = timedelta(milliseconds=1)
#: Sync log rows read at most; the bench writes far fewer.
_LOG_LIMIT = 1_000_000

_POLL_RUNS = """
SELECT j.args->>'connector', j.args->>'timestamp', count(e.id)
  FROM procrastinate_jobs j JOIN procrastinate_events e ON e.job_id = j.id
 WHERE j.task_name = %s AND e.type = 'started'
 GROUP BY 1, 2
"""


@dataclass(frozen=True)
class Run:
    """One finished attempt at one event, from the sync log."""

    event_id: int
    attempt: int
    started: datetime
    ended: datetime


def runs_by_ticket(store: Store) -> dict[tuple[str, str], list[Run]]:
    """Return each ticket's finished event attempts, in the order they started.

    The engine logs every action of an attempt at its end with the attempt's duration,
    so an attempt's rows share one time and one duration.
    """
    attempts: dict[tuple[str, str, int, int], SyncLogRow] = {}
    for row in store.sync_log(limit=_LOG_LIMIT):
        if row.event_id is None or row.duration_ms is None:
            continue
        attempts.setdefault((row.connector, row.ticket_id, row.event_id, row.attempt), row)

    tickets: dict[tuple[str, str], list[Run]] = defaultdict(list)
    for (connector, ticket_id, event_id, attempt), row in attempts.items():
        duration = timedelta(milliseconds=row.duration_ms or 0.0)
        tickets[(connector, ticket_id)].append(Run(event_id, attempt, row.at - duration, row.at))
    for runs in tickets.values():
        runs.sort(key=lambda run: (run.started, run.event_id))
    return dict(tickets)


def order_violations(store: Store) -> list[str]:
    """Describe each run that started before the previous run of its ticket ended (they
    overlapped) or that handled an older event than the previous run (arrival order broke)."""
    problems: list[str] = []
    for (connector, ticket_id), runs in sorted(runs_by_ticket(store).items()):
        for before, after in itertools.pairwise(runs):
            if after.started < before.ended - ORDER_TOLERANCE:
                overlap_ms = (before.ended - after.started).total_seconds() * 1000
                problems.append(
                    f"{connector}:{ticket_id}: event {after.event_id} started {overlap_ms:.1f} ms "
                    f"before event {before.event_id} ended"
                )
            if after.event_id < before.event_id:
                problems.append(
                    f"{connector}:{ticket_id}: event {after.event_id} ran after the newer "
                    f"event {before.event_id}"
                )
    return problems


def polls_per_period_max(conninfo: str, options: str) -> tuple[int, dict[str, int]]:
    """Return the most poll runs of one connector in one period, and the periods per connector.

    A run is a `started` event of a poll job, so a job started twice counts twice.
    """
    with psycopg.connect(conninfo, options=options, autocommit=True) as connection:
        rows: list[Any] = connection.execute(_POLL_RUNS, (TASK_POLL,)).fetchall()
    periods: dict[str, int] = defaultdict(int)
    for connector, _timestamp, _runs in rows:
        periods[str(connector)] += 1
    most = max((int(runs) for _connector, _timestamp, runs in rows), default=0)
    return most, dict(periods)
