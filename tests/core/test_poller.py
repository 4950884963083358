"""Tests for `poll_connector` against the ServiceNow and JSM emulators."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import Stack, StackFactory
from tierbridge.core.connector import Connector, NativeRecord
from tierbridge.core.errors import RetryableError, ThrottledError
from tierbridge.core.poller import poll_connector

#: 07:15:42.117 UTC, 09:15:42 in Berlin, the JSM integration account's time zone.
JIRA_START = datetime(2024, 5, 1, 7, 15, 42, 117000, tzinfo=UTC)


def fail_after(
    connector: Connector, good: int
) -> Callable[[datetime | None], Iterator[NativeRecord]]:
    """Return a read of `connector` that yields `good` records, then fails like a dropped page."""
    real_read = connector.changed_since

    def read(since: datetime | None) -> Iterator[NativeRecord]:
        for index, record in enumerate(real_read(since)):
            if index == good:
                msg = "connection reset while reading the next page"
                raise RetryableError(msg, connector=connector.name, operation="changed_since")
            yield record

    return read


@pytest.fixture
def snow(make_stack: StackFactory) -> Stack:
    """A stack whose ServiceNow connector reads one record per page."""
    return make_stack(snow={"page_size": 1})


def open_incidents(stack: Stack, count: int) -> list[str]:
    return [stack.open_incident(short_description=f"Issue {n}")["sys_id"] for n in range(count)]


class TestWatermark:
    def test_complete_read_moves_watermark(self, snow: Stack) -> None:
        """A complete read queues each record and sets the watermark to the newest update."""
        ids = open_incidents(snow, 3)

        result = poll_connector(snow.rt, "snow")

        cursor = snow.rt.store.get_cursor("snow")
        assert result.read == 3
        assert result.queued == 3
        assert cursor is not None
        assert cursor.watermark == result.watermark
        newest = max(snow.rt.connectors["snow"].get_record(i).updated for i in ids)
        assert cursor.watermark == newest
        queued = {event.ticket_id for event in snow.rt.store.list_events()}
        assert queued == set(ids)

    def test_throttled_read_keeps_watermark(self, snow: Stack) -> None:
        """A read throttled for longer than a call may wait raises and changes nothing."""
        open_incidents(snow, 2)
        poll_connector(snow.rt, "snow")
        before = snow.rt.store.get_cursor("snow")
        open_incidents(snow, 1)
        snow.emulators.snow.inject_429(1, retry_after=60)

        with pytest.raises(ThrottledError):
            poll_connector(snow.rt, "snow")

        assert snow.rt.store.get_cursor("snow") == before
        assert len(snow.rt.store.list_events()) == 2

    def test_failed_page_keeps_watermark(
        self, snow: Stack, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A read that fails after some records queues none of them and keeps the watermark."""
        open_incidents(snow, 3)
        connector = snow.rt.connectors["snow"]
        monkeypatch.setattr(connector, "changed_since", fail_after(connector, good=2))

        with pytest.raises(RetryableError):
            poll_connector(snow.rt, "snow")

        assert snow.rt.store.get_cursor("snow") is None
        assert snow.rt.store.list_events() == []

    def test_empty_read_keeps_watermark(self, snow: Stack) -> None:
        """A poll that finds nothing leaves an existing watermark where it was."""
        open_incidents(snow, 1)
        poll_connector(snow.rt, "snow")
        before = snow.rt.store.get_cursor("snow")
        assert before is not None
        snow.emulators.snow.reset()

        result = poll_connector(snow.rt, "snow")

        after = snow.rt.store.get_cursor("snow")
        assert result.read == 0
        assert after is not None
        assert after.watermark == before.watermark


class TestOverlap:
    def test_reread_not_queued_again(self, snow: Stack) -> None:
        """A second poll re-reads the overlap window but queues no version twice."""
        open_incidents(snow, 2)
        poll_connector(snow.rt, "snow")

        again = poll_connector(snow.rt, "snow")

        assert again.read == 2
        assert again.queued == 0
        assert len(snow.rt.store.list_events()) == 2

    def test_processed_version_skipped(self, snow: Stack) -> None:
        """A version the engine already processed is not queued by a later poll."""
        open_incidents(snow, 2)
        snow.handle_due()
        poll_connector(snow.rt, "snow")
        snow.handle_due()
        done = snow.rt.store.list_events(status="done")

        again = poll_connector(snow.rt, "snow")

        assert len(done) == 2
        assert again.read == 2
        assert again.queued == 0

    def test_new_version_queued(self, snow: Stack) -> None:
        """A record changed after its processed version is queued again."""
        (sys_id,) = open_incidents(snow, 1)
        poll_connector(snow.rt, "snow")
        snow.handle_due()
        snow.l1.update_incident(sys_id, short_description="Issue 0, now worse")

        again = poll_connector(snow.rt, "snow")

        assert again.queued == 1


class TestJiraMinutes:
    def test_same_minute_change_found(self, make_stack: StackFactory) -> None:
        """A change later in the watermark's minute is found with no overlap window.

        JQL dates are read to the minute in the account's zone (Berlin, UTC+2 in May), so the
        query starts at 09:15 local and includes 07:15:50 UTC.
        """
        stack = make_stack(jsm={"poll_overlap_seconds": 0})
        clock = stack.emulators.jira_clock
        clock.pinned = JIRA_START
        stack.rt.clock = lambda: JIRA_START
        created = stack.rt.connectors["jsm"].create_record({"summary": "Disk full"}, "test:1")
        first = poll_connector(stack.rt, "jsm")
        clock.pinned = JIRA_START + timedelta(seconds=8)
        stack.l2.update_fields(str(created.key), summary="Disk full on db-1")

        second = poll_connector(stack.rt, "jsm")

        assert first.watermark == JIRA_START
        assert second.read == 1
        assert second.queued == 1
        assert second.watermark == JIRA_START + timedelta(seconds=8)
        versions = [event.version for event in stack.rt.store.list_events()]
        assert len(set(versions)) == 2

    def test_earlier_same_minute_found(self, make_stack: StackFactory) -> None:
        """A change stamped earlier in the watermark's minute (a late commit) is still read."""
        stack = make_stack(jsm={"poll_overlap_seconds": 0})
        clock = stack.emulators.jira_clock
        clock.pinned = JIRA_START
        stack.rt.clock = lambda: JIRA_START
        stack.rt.connectors["jsm"].create_record({"summary": "Disk full"}, "test:1")
        poll_connector(stack.rt, "jsm")
        clock.pinned = JIRA_START - timedelta(seconds=30)
        stack.rt.connectors["jsm"].create_record({"summary": "Late commit"}, "test:2")

        second = poll_connector(stack.rt, "jsm")

        assert second.read == 2
        assert second.queued == 1
