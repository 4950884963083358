"""The outbox of intended writes and the sync log of what the engine did."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, func, or_, select, update

from tierbridge.core.errors import StoreError
from tierbridge.core.store._base import StoreBase, to_row
from tierbridge.core.store.rows import OutboxRow, SyncLogEntry, SyncLogRow
from tierbridge.core.store.tables import OutboxWrite, SyncLog

__all__ = ["JournalStore"]


class JournalStore(StoreBase):
    """Writes reserved before they are sent, and one log row per engine action."""

    def reserve_write(
        self,
        link_id: int,
        target_connector: str,
        operation: str,
        correlation_id: str,
        now: datetime,
    ) -> OutboxRow:
        """Reserve a write under `correlation_id`, or return the row of an earlier reservation.

        The returned row's status shows whether an earlier attempt finished
        (done, with `result_id`) or may have sent the write without confirming it (pending).
        """
        values = {
            "link_id": link_id,
            "target_connector": target_connector,
            "operation": operation,
            "correlation_id": correlation_id,
            "status": "pending",
            "created_at": now,
        }
        statement = self._insert(OutboxWrite).values(values)
        statement = statement.on_conflict_do_nothing(index_elements=["correlation_id"])
        with self._write() as session:
            session.execute(statement)
            query = select(OutboxWrite).where(OutboxWrite.correlation_id == correlation_id)
            return to_row(OutboxRow, session.scalars(query).one())

    def complete_write(self, correlation_id: str, result_id: str, now: datetime) -> None:
        """Mark a reserved write done with the id the target returned (may be empty)."""
        statement = (
            update(OutboxWrite)
            .where(OutboxWrite.correlation_id == correlation_id)
            .values(status="done", result_id=result_id, done_at=now)
        )
        with self._write() as session:
            result = cast(CursorResult[Any], session.execute(statement))
            if result.rowcount == 0:
                msg = f"no write is reserved under {correlation_id!r}; call reserve_write first"
                raise StoreError(msg)

    def pending_writes(self) -> list[OutboxRow]:
        """Return the reserved writes not yet confirmed, oldest first."""
        query = select(OutboxWrite).where(OutboxWrite.status == "pending").order_by(OutboxWrite.id)
        with self._read() as session:
            return [to_row(OutboxRow, write) for write in session.scalars(query)]

    def get_write(self, correlation_id: str) -> OutboxRow | None:
        """Return the write reserved under `correlation_id`, or None."""
        query = select(OutboxWrite).where(OutboxWrite.correlation_id == correlation_id)
        with self._read() as session:
            write = session.scalar(query)
            return to_row(OutboxRow, write) if write is not None else None

    def log(self, entry: SyncLogEntry) -> None:
        """Append an entry to the sync log. Raises StoreError if `entry.at` is not set."""
        if entry.at is None:
            msg = f"sync log entry {entry.action!r} has no time; set entry.at before logging it"
            raise StoreError(msg)

        row = SyncLog(
            at=entry.at,
            event_id=entry.event_id,
            link_id=entry.link_id,
            connector=entry.connector,
            ticket_id=entry.ticket_id,
            ticket_key=entry.ticket_key,
            action=entry.action,
            target_connector=entry.target_connector,
            target_ticket=entry.target_ticket,
            fields=list(entry.fields),
            outcome=entry.outcome,
            attempt=entry.attempt,
            duration_ms=entry.duration_ms,
            error=entry.error,
            detail=entry.detail,
        )
        with self._write() as session:
            session.add(row)

    def sync_log(
        self,
        *,
        link_id: int | None = None,
        connector: str | None = None,
        ticket: str | None = None,
        outcome: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 200,
    ) -> list[SyncLogRow]:
        """Return up to `limit` log rows, newest first, matching every filter given.

        `ticket` matches the source ticket's id or key. `since` is inclusive and `until`
        exclusive, so consecutive windows do not overlap.
        """
        query = select(SyncLog).order_by(SyncLog.at.desc(), SyncLog.id.desc()).limit(limit)
        if link_id is not None:
            query = query.where(SyncLog.link_id == link_id)
        if connector is not None:
            query = query.where(SyncLog.connector == connector)
        if ticket is not None:
            query = query.where(or_(SyncLog.ticket_id == ticket, SyncLog.ticket_key == ticket))
        if outcome is not None:
            query = query.where(SyncLog.outcome == outcome)
        if since is not None:
            query = query.where(SyncLog.at >= since)
        if until is not None:
            query = query.where(SyncLog.at < until)

        with self._read() as session:
            return [to_row(SyncLogRow, row) for row in session.scalars(query)]

    def count_actions(self) -> dict[str, int]:
        """Count the sync log rows per action."""
        query = select(SyncLog.action, func.count()).group_by(SyncLog.action)
        with self._read() as session:
            return {action: int(count) for action, count in session.execute(query)}
