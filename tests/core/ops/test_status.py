"""Tests of the per-connector status read from the store: poll health, throttling, queue, DLQ."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import DEMO_CONFIG
from tierbridge.core.config import AppConfig, load_config
from tierbridge.core.ops.status import connector_statuses, queue_status, throttled_until
from tierbridge.core.store import Store, SyncLogEntry

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(f"sqlite:///{tmp_path / 'state.db'}")
    yield opened
    opened.close()


@pytest.fixture
def config() -> AppConfig:
    return load_config(DEMO_CONFIG)


def add_event(store: Store, connector: str, delivery: str, received: datetime) -> int:
    event_id = store.add_event(connector, delivery, "t1", "updated", None, {}, received)
    assert event_id is not None
    return event_id


def retry_row(store: Store, at: datetime, error: str, wait: float) -> None:
    store.log(
        SyncLogEntry(
            connector="snow",
            ticket_id="t1",
            action="retry",
            at=at,
            outcome="failed",
            error=error,
            detail=f"next attempt in {wait:.1f} s",
        )
    )


class TestConnectors:
    def test_never_polled_unhealthy(self, config: AppConfig, store: Store) -> None:
        """A connector without a cursor has never polled successfully."""
        statuses = connector_statuses(config, store, NOW)

        assert [s.connector for s in statuses] == ["snow", "jsm"]
        assert [s.tier for s in statuses] == ["L1", "L2"]
        assert not statuses[0].healthy
        assert statuses[0].reason == "never polled successfully"

    def test_recent_poll_healthy(self, config: AppConfig, store: Store) -> None:
        """A cursor moved within three poll intervals means healthy; older means not."""
        store.set_cursor("snow", NOW - timedelta(minutes=5), [])
        store.set_cursor("jsm", NOW, [])
        cursor = store.get_cursor("snow")
        assert cursor is not None

        fresh = connector_statuses(config, store, cursor.updated_at + timedelta(seconds=60))
        stale = connector_statuses(config, store, cursor.updated_at + timedelta(seconds=91))

        assert fresh[0].healthy
        assert fresh[0].watermark == NOW - timedelta(minutes=5)
        assert not stale[0].healthy
        assert "no successful poll for 2 min" in stale[0].reason

    def test_queue_and_dead_letters(self, config: AppConfig, store: Store) -> None:
        """Unfinished events count as queue depth, dead ones as dead letters, per connector."""
        add_event(store, "snow", "d1", NOW - timedelta(minutes=3))
        add_event(store, "snow", "d2", NOW - timedelta(minutes=1))
        dead = add_event(store, "snow", "d3", NOW - timedelta(minutes=9))
        done = add_event(store, "jsm", "d4", NOW - timedelta(minutes=20))
        store.dead_event(dead, "snow get_record (HTTP 400): rejected")
        store.complete_event(done)

        snow, jsm = connector_statuses(config, store, NOW)

        assert (snow.queue_depth, snow.dead_letters) == (2, 1)
        assert snow.oldest_pending == NOW - timedelta(minutes=3)
        assert (jsm.queue_depth, jsm.dead_letters, jsm.oldest_pending) == (0, 0, None)

    def test_throttled_until_from_retry(self, config: AppConfig, store: Store) -> None:
        """A retry row for an HTTP 429 marks its connector throttled until the backoff ends."""
        error = "jsm update issue L2-1 (HTTP 429): rate limited; retry after 30.0 s"
        retry_row(store, NOW - timedelta(seconds=10), error, 30.0)

        _snow, jsm = connector_statuses(config, store, NOW)

        assert jsm.throttled_until == NOW + timedelta(seconds=20)


class TestThrottle:
    def test_ignores_other_errors(self, store: Store) -> None:
        """A 503 retry is not throttling."""
        retry_row(store, NOW, "snow get_record (HTTP 503): instance error", 60.0)

        assert throttled_until(store, NOW) == {}

    def test_ignores_ended_backoff(self, store: Store) -> None:
        """A backoff that ended before now is not reported."""
        retry_row(store, NOW - timedelta(minutes=5), "snow get_record (HTTP 429): slow", 60.0)

        assert throttled_until(store, NOW) == {}

    def test_latest_end_wins(self, store: Store) -> None:
        """Of two throttled retries, the later end is reported."""
        retry_row(store, NOW, "snow get_record (HTTP 429): slow", 10.0)
        retry_row(store, NOW, "snow get_record (HTTP 429): slow", 40.0)

        assert throttled_until(store, NOW) == {"snow": NOW + timedelta(seconds=40)}


class TestQueue:
    def test_lag_and_counts(self, store: Store) -> None:
        """The lag is the age of the oldest unfinished event; done events do not count."""
        done = add_event(store, "snow", "d0", NOW - timedelta(hours=1))
        store.complete_event(done)
        add_event(store, "snow", "d1", NOW - timedelta(seconds=45))

        queue = queue_status(store, NOW)

        assert queue.depth == 1
        assert queue.lag_seconds == 45.0
        assert queue.by_status == {"done": 1, "pending": 1}

    def test_empty_queue_no_lag(self, store: Store) -> None:
        """An empty inbox has no lag."""
        queue = queue_status(store, NOW)

        assert (queue.depth, queue.lag_seconds, queue.oldest_pending) == (0, 0.0, None)
