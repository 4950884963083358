"""Poll one connector for changes: the safety net under the webhooks.

Each poll reads every record changed since the watermark minus an overlap window, to the last
page, and stores one inbox event per record version it has not processed yet. Only after the
whole read succeeds does the watermark move, to the newest `updated` seen. A failed read
raises and leaves the watermark where it was, so the next poll reads the same window again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import structlog

if TYPE_CHECKING:
    from tierbridge.core.connector import NativeRecord
    from tierbridge.core.runtime import Runtime

__all__ = ["PollResult", "poll_connector"]

_log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class PollResult:
    """Counts of one poll: records read, events stored, and the watermark after it."""

    connector: str
    read: int
    queued: int
    watermark: datetime | None
    duration_ms: float


def poll_connector(rt: Runtime, name: str) -> PollResult:
    """Read changes from connector `name` and queue the unseen ones; move the watermark."""
    started = time.monotonic()
    connector = rt.connectors[name]
    settings = rt.config.connectors[name]
    cursor = rt.store.get_cursor(name)
    now = rt.clock()
    overlap = timedelta(seconds=settings.poll_overlap_seconds)
    since = (cursor.watermark if cursor else now) - overlap

    records: list[NativeRecord] = rt.policy.call(lambda: list(connector.changed_since(since)))
    queued = sum(1 for record in records if _queue_if_unseen(rt, name, record))

    watermark = max((record.updated for record in records), default=None)
    if watermark is None:
        watermark = cursor.watermark if cursor else now - overlap
    elif cursor is not None:
        watermark = max(watermark, cursor.watermark)
    seen = sorted(f"{r.id}:{r.version}" for r in records if r.updated == watermark)
    rt.store.set_cursor(name, watermark, seen)

    duration_ms = round((time.monotonic() - started) * 1000, 2)
    _log.info("poll", connector=name, read=len(records), queued=queued, duration_ms=duration_ms)
    return PollResult(name, len(records), queued, watermark, duration_ms)


def _queue_if_unseen(rt: Runtime, name: str, record: NativeRecord) -> bool:
    """Store an event for a record version newer than the last one processed."""
    snapshot = rt.store.get_snapshot(name, record.id)
    if snapshot is not None and snapshot.version is not None and record.version <= snapshot.version:
        return False
    event_id = rt.store.add_event(
        name,
        f"poll:{record.id}:{record.version}",
        record.id,
        "polled",
        record.version,
        {},
        rt.clock(),
    )
    return event_id is not None
