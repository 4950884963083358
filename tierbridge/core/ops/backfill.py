"""Initial sync of the tickets that existed before the daemon: read, queue, process, resume.

A backfill reads every record changed since a date through the connector's normal paged
read, under the retry policy. It then works through them in batches. For each batch it
queues one inbox event per record version not yet processed, and handles due events until
none is left, the way a worker does. After each batch it saves its progress as the cursor `backfill:<connector>`
(the last record's `updated` time and the ids seen at it), so a run that was interrupted
starts again after the last finished batch.

Events are claimed like any worker claims them, so a daemon running at the same time shares
the work safely. An event put back for a retry (a 429, a timeout) stays in the inbox; the
backfill reports how many wait, and a running daemon or a later backfill handles them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import structlog

from tierbridge.core.engine import handle_event
from tierbridge.core.errors import ConfigError

if TYPE_CHECKING:
    from tierbridge.core.connector import NativeRecord
    from tierbridge.core.runtime import Runtime

__all__ = ["DEFAULT_BATCH_SIZE", "BackfillResult", "backfill", "cursor_name"]

_log = structlog.get_logger(__name__)

#: Records queued and processed between two saves of the progress cursor.
DEFAULT_BATCH_SIZE = 50

#: Called after each batch with the records done so far and the total.
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class BackfillResult:
    """Counts of one backfill run. `started_at` is where the read began (resumed or not)."""

    connector: str
    started_at: datetime
    resumed: bool
    read: int
    queued: int
    processed: int
    waiting: int


def cursor_name(connector: str) -> str:
    """Return the name of the cursor row that stores a connector's backfill progress."""
    return f"backfill:{connector}"


def backfill(
    rt: Runtime,
    connector: str,
    since: datetime,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    restart: bool = False,
    progress: Progress | None = None,
) -> BackfillResult:
    """Sync every ticket of `connector` changed since `since`, resuming saved progress.

    `restart` ignores the saved progress. Raises ConfigError for an unknown connector and
    the connector's errors when the read fails after the retry policy gave up.
    """
    if connector not in rt.connectors:
        configured = ", ".join(sorted(rt.connectors))
        raise ConfigError(f"connector {connector!r} is not configured; configured: {configured}")

    start, seen, resumed = _starting_point(rt, connector, since, restart)
    client = rt.connectors[connector]
    records = rt.policy.call(lambda: list(client.changed_since(start)))
    todo = [record for record in records if _key(record) not in seen]
    _log.info("backfill_started", connector=connector, since=start.isoformat(), records=len(todo))

    queued = processed = 0
    for offset in range(0, len(todo), batch_size):
        batch = todo[offset : offset + batch_size]
        queued += sum(_queue(rt, connector, record) for record in batch)
        processed += _drain(rt)
        seen = _save_progress(rt, connector, batch, seen)
        if progress is not None:
            progress(offset + len(batch), len(todo))

    waiting = rt.store.pending_count()
    _log.info("backfill_finished", connector=connector, queued=queued, waiting=waiting)
    return BackfillResult(connector, start, resumed, len(todo), queued, processed, waiting)


def _key(record: NativeRecord) -> str:
    return f"{record.id}:{record.version}"


def _starting_point(
    rt: Runtime, connector: str, since: datetime, restart: bool
) -> tuple[datetime, set[str], bool]:
    cursor = rt.store.get_cursor(cursor_name(connector))
    if restart or cursor is None or cursor.watermark < since:
        return since, set(), False
    return cursor.watermark, set(cursor.seen), True


def _queue(rt: Runtime, connector: str, record: NativeRecord) -> bool:
    """Store an event for a record version newer than the last one processed, as a poll does."""
    snapshot = rt.store.get_snapshot(connector, record.id)
    if snapshot is not None and snapshot.version is not None and record.version <= snapshot.version:
        return False
    event_id = rt.store.add_event(
        connector,
        f"backfill:{_key(record)}",
        record.id,
        "backfill",
        record.version,
        {},
        rt.clock(),
    )
    return event_id is not None


def _drain(rt: Runtime) -> int:
    """Handle due events until none may run now; return how many were handled."""
    handled = 0
    lease = rt.config.queue.lease_seconds
    while (event := rt.store.claim_event(rt.clock(), lease)) is not None:
        handle_event(rt, event)
        handled += 1
    return handled


def _save_progress(
    rt: Runtime, connector: str, batch: Sequence[NativeRecord], seen: set[str]
) -> set[str]:
    """Save the last record's time and the records seen at it; return that set."""
    watermark = batch[-1].updated
    at_watermark = {_key(record) for record in batch if record.updated == watermark}
    carried = seen if _same_instant(rt, connector, watermark) else set()
    seen = carried | at_watermark
    rt.store.set_cursor(cursor_name(connector), watermark, sorted(seen))
    return seen


def _same_instant(rt: Runtime, connector: str, watermark: datetime) -> bool:
    cursor = rt.store.get_cursor(cursor_name(connector))
    return cursor is not None and cursor.watermark == watermark
