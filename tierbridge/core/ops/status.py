"""The daemon's state per connector, read from the store alone: polls, throttling, queue, DLQ.

Nothing here talks to a ticketing system or to a running daemon. A poll that succeeded moved
the connector's cursor, so the cursor's `updated_at` is the time of the last successful poll.
Throttling is read from the sync log's retry rows for HTTP 429 responses and their backoff.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from tierbridge.core.ops.queries import UNFINISHED, InboxCount, inbox_counts

if TYPE_CHECKING:
    from tierbridge.core.config import AppConfig
    from tierbridge.core.store import Store, SyncLogRow

__all__ = ["ConnectorStatus", "QueueStatus", "connector_statuses", "queue_status"]

#: A connector is unhealthy when its last successful poll is older than this many intervals.
STALE_POLL_INTERVALS = 3
#: How far back the sync log is read for throttled retries.
THROTTLE_LOOKBACK = timedelta(hours=1)
#: Connector errors render as `<connector> <operation> [record] (HTTP <status>): message`.
_THROTTLED_ERROR = re.compile(r"^(?P<connector>\S+) .*\(HTTP 429\)")
_BACKOFF_DETAIL = re.compile(r"next attempt in (?P<seconds>\d+(?:\.\d+)?) s")


@dataclass(frozen=True)
class ConnectorStatus:
    """One connector's health as the store shows it. Times are UTC."""

    connector: str
    system: str
    tier: str | None
    healthy: bool
    reason: str
    last_poll: datetime | None
    watermark: datetime | None
    throttled_until: datetime | None
    queue_depth: int
    oldest_pending: datetime | None
    dead_letters: int

    def as_json(self) -> dict[str, Any]:
        return {
            "connector": self.connector,
            "system": self.system,
            "tier": self.tier,
            "healthy": self.healthy,
            "reason": self.reason,
            "last_poll": _iso(self.last_poll),
            "watermark": _iso(self.watermark),
            "throttled_until": _iso(self.throttled_until),
            "queue_depth": self.queue_depth,
            "oldest_pending": _iso(self.oldest_pending),
            "dead_letters": self.dead_letters,
        }


@dataclass(frozen=True)
class QueueStatus:
    """The inbox as a whole: events waiting, the lag of the oldest, and the dead letters."""

    depth: int
    oldest_pending: datetime | None
    lag_seconds: float
    dead_letters: int
    by_status: dict[str, int]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def queue_status(store: Store, now: datetime) -> QueueStatus:
    """Summarize the inbox. The lag is `now` minus the arrival of the oldest unfinished event."""
    counts = inbox_counts(store)
    unfinished = [count for count in counts if count.status in UNFINISHED]
    oldest = min((c.oldest_received_at for c in unfinished if c.oldest_received_at), default=None)
    by_status: dict[str, int] = {}
    for count in counts:
        by_status[count.status] = by_status.get(count.status, 0) + count.count
    return QueueStatus(
        depth=sum(count.count for count in unfinished),
        oldest_pending=oldest,
        lag_seconds=max(0.0, (now - oldest).total_seconds()) if oldest else 0.0,
        dead_letters=by_status.get("dead", 0),
        by_status=by_status,
    )


def connector_statuses(config: AppConfig, store: Store, now: datetime) -> list[ConnectorStatus]:
    """Return the status of every configured connector, in config order."""
    counts = inbox_counts(store)
    throttled = throttled_until(store, now)
    tiers = {settings.connector: tier.value for tier, settings in config.tiers.items()}
    statuses = []
    for name, settings in config.connectors.items():
        cursor = store.get_cursor(name)
        last_poll = cursor.updated_at if cursor is not None else None
        healthy, reason = _poll_health(last_poll, settings.poll_interval_seconds, now)
        mine = [count for count in counts if count.connector == name]
        statuses.append(
            ConnectorStatus(
                connector=name,
                system=settings.system,
                tier=tiers.get(name),
                healthy=healthy,
                reason=reason,
                last_poll=last_poll,
                watermark=cursor.watermark if cursor is not None else None,
                throttled_until=throttled.get(name),
                queue_depth=_unfinished(mine),
                oldest_pending=_oldest(mine),
                dead_letters=sum(count.count for count in mine if count.status == "dead"),
            )
        )
    return statuses


def _poll_health(last_poll: datetime | None, interval: float, now: datetime) -> tuple[bool, str]:
    if last_poll is None:
        return False, "never polled successfully"
    allowed = timedelta(seconds=interval * STALE_POLL_INTERVALS)
    age = now - last_poll
    if age > allowed:
        minutes = age.total_seconds() / 60
        return (
            False,
            f"no successful poll for {minutes:.0f} min; check the daemon's poll_failed logs",
        )
    return True, "polling"


def _unfinished(counts: list[InboxCount]) -> int:
    return sum(count.count for count in counts if count.status in UNFINISHED)


def _oldest(counts: list[InboxCount]) -> datetime | None:
    times = [
        c.oldest_received_at for c in counts if c.status in UNFINISHED and c.oldest_received_at
    ]
    return min(times, default=None)


def throttled_until(store: Store, now: datetime) -> dict[str, datetime]:
    """Return when the last backoff ends, per connector that responded 429 lately, if after now."""
    rows = store.sync_log(outcome="failed", since=now - THROTTLE_LOOKBACK, limit=1000)
    until: dict[str, datetime] = {}
    for row in rows:
        ends = _backoff_end(row)
        if ends is None or ends[1] <= now:
            continue
        connector, end = ends
        until[connector] = max(end, until.get(connector, end))
    return until


def _backoff_end(row: SyncLogRow) -> tuple[str, datetime] | None:
    if row.action != "retry" or not row.error:
        return None
    error = _THROTTLED_ERROR.match(row.error)
    detail = _BACKOFF_DETAIL.search(row.detail or "")
    if error is None or detail is None:
        return None
    return error["connector"], row.at + timedelta(seconds=float(detail["seconds"]))
