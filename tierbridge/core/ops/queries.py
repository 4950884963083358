"""Read-only store queries the operator tools need and `Store` does not offer.

NOTE: these use the store's private read session and its tables. They only read, so they
cannot break the store's invariants, but a change to the tables must be made here as well.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from tierbridge.core.store._base import to_row
from tierbridge.core.store.rows import RefRow
from tierbridge.core.store.tables import InboxEvent, Ref

if TYPE_CHECKING:
    from tierbridge.core.store import Store

__all__ = ["UNFINISHED", "InboxCount", "find_ref_by_key", "inbox_counts", "linked_link_ids"]

#: Inbox statuses of events that still have to run, as the store defines them.
UNFINISHED = frozenset({"pending", "processing", "failed"})


@dataclass(frozen=True)
class InboxCount:
    """How many inbox events of one connector are in one status, and the oldest one's arrival."""

    connector: str
    status: str
    count: int
    oldest_received_at: datetime | None


def inbox_counts(store: Store) -> list[InboxCount]:
    """Count the inbox events per connector and status."""
    query = select(
        InboxEvent.connector,
        InboxEvent.status,
        func.count(),
        func.min(InboxEvent.received_at),
    ).group_by(InboxEvent.connector, InboxEvent.status)
    with store._read() as session:
        return [
            InboxCount(connector, status, int(count), oldest)
            for connector, status, count, oldest in session.execute(query)
        ]


def linked_link_ids(store: Store) -> list[int]:
    """Return the ids of links that join two or more tickets, oldest first."""
    query = select(Ref.link_id).group_by(Ref.link_id).having(func.count() > 1).order_by(Ref.link_id)
    with store._read() as session:
        return [int(link_id) for link_id in session.scalars(query)]


def find_ref_by_key(store: Store, connector: str | None, key: str) -> RefRow | None:
    """Return the ref whose human key is `key`, in `connector` if given; the oldest if several."""
    query = select(Ref).where(Ref.ticket_key == key).order_by(Ref.id).limit(1)
    if connector is not None:
        query = query.where(Ref.connector == connector)
    with store._read() as session:
        ref = session.scalar(query)
        return to_row(RefRow, ref) if ref is not None else None
