"""The on-call view of the sync log: filter rows, render them, and follow new ones.

A ticket filter finds the ticket's link through its own rows, so the trail shows what
happened on every linked ticket, not only the rows whose source was the one asked for.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tierbridge.core.ops.queries import find_ref_by_key

if TYPE_CHECKING:
    from tierbridge.core.store import Store, SyncLogRow

__all__ = ["HEADERS", "LogFilter", "follow_rows", "recent_rows", "row_cells", "row_json"]

#: Column titles of the table view, in the order of `row_cells`.
HEADERS = ("AT", "TICKET", "ACTION", "OUTCOME", "TARGET", "FIELDS", "WHY")


@dataclass(frozen=True)
class LogFilter:
    """Sync log filters, where None matches everything. `since` is inclusive, `until` exclusive."""

    ticket: str | None = None
    connector: str | None = None
    outcome: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    link_id: int | None = None

    def resolved(self, store: Store) -> LogFilter:
        """Return a filter on the ticket's link when the ticket is linked, else this filter.

        `ticket` may be `CONNECTOR:ID_OR_KEY` or a bare id or key.
        """
        if self.ticket is None:
            return self
        connector, ticket = _split_ref(self.ticket, self.connector)
        ref = store.find_ref(connector, ticket) if connector is not None else None
        ref = ref or find_ref_by_key(store, connector, ticket)
        if ref is not None:
            return replace(self, ticket=None, link_id=ref.link_id)

        own_rows = store.sync_log(connector=connector, ticket=ticket, limit=1)
        if own_rows and own_rows[0].link_id is not None:
            return replace(self, ticket=None, link_id=own_rows[0].link_id)
        return replace(self, ticket=ticket, connector=connector)

    def query(self, store: Store, limit: int) -> list[SyncLogRow]:
        """Return up to `limit` matching rows, newest first."""
        return store.sync_log(
            link_id=self.link_id,
            connector=self.connector,
            ticket=self.ticket,
            outcome=self.outcome,
            since=self.since,
            until=self.until,
            limit=limit,
        )


def _split_ref(text: str, connector: str | None) -> tuple[str | None, str]:
    name, separator, rest = text.partition(":")
    if separator and rest:
        return name, rest
    return connector, text


def recent_rows(store: Store, filters: LogFilter, limit: int) -> list[SyncLogRow]:
    """Return the newest `limit` matching rows in time order, oldest first."""
    return list(reversed(filters.query(store, limit)))


def follow_rows(
    store: Store,
    filters: LogFilter,
    last: SyncLogRow | None,
    *,
    interval: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
    keep_going: Callable[[], bool] = lambda: True,
) -> Iterator[SyncLogRow]:
    """Yield rows logged after `last`, oldest first, checking every `interval` seconds.

    Rows of one engine pass share a time, so the query starts at the last time seen and
    drops the ids already yielded at it. Stops when `keep_going` returns False.
    """
    since = last.at if last is not None else filters.since
    seen = {last.id} if last is not None else set()
    while keep_going():
        window = replace(filters, since=since) if since is not None else filters
        rows = [row for row in reversed(window.query(store, 1000)) if row.id not in seen]
        for row in rows:
            if since is None or row.at > since:
                since, seen = row.at, set()
            seen.add(row.id)
            yield row
        sleep(interval)


def row_json(row: SyncLogRow) -> dict[str, Any]:
    """Return one row as a JSON-ready object with every column."""
    return {
        "id": row.id,
        "at": row.at.isoformat(),
        "connector": row.connector,
        "ticket_id": row.ticket_id,
        "ticket_key": row.ticket_key,
        "link_id": row.link_id,
        "event_id": row.event_id,
        "action": row.action,
        "outcome": row.outcome,
        "target_connector": row.target_connector,
        "target_ticket": row.target_ticket,
        "fields": list(row.fields),
        "attempt": row.attempt,
        "duration_ms": row.duration_ms,
        "detail": row.detail,
        "error": row.error,
    }


def row_cells(row: SyncLogRow) -> Sequence[str]:
    """Return one row's table cells, in the order of HEADERS."""
    target = f"{row.target_connector}:{row.target_ticket}" if row.target_connector else "-"
    reasons = [text for text in (row.detail, row.error) if text]
    return (
        row.at.strftime("%Y-%m-%d %H:%M:%S"),
        f"{row.connector}:{row.ticket_key or row.ticket_id}",
        row.action,
        row.outcome,
        target,
        ",".join(row.fields) or "-",
        "; ".join(reasons) or "-",
    )
