"""Tests of the backfill: every existing ticket synced, progress saved, resumed, 429s retried."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import Stack
from tierbridge.core.errors import ConfigError
from tierbridge.core.ops.backfill import backfill, cursor_name

T0 = datetime(2026, 2, 1, 9, 0, tzinfo=UTC)


class Interrupted(Exception):
    """Stands in for Ctrl-C after a batch."""


def open_incidents(stack: Stack, count: int, *, p1: int = 0) -> list[str]:
    """Open `count` incidents a minute apart, the first `p1` of them at P1; return their ids."""
    ids = []
    for index in range(count):
        stack.emulators.snow_clock.pinned = T0 + timedelta(minutes=index)
        level = "1" if index < p1 else "3"
        incident = stack.open_incident(
            short_description=f"Ticket {index}", impact=level, urgency=level
        )
        ids.append(incident["sys_id"])
    stack.emulators.snow_clock.pinned = None
    return ids


class TestBackfill:
    def test_syncs_every_ticket(self, stack: Stack) -> None:
        """Each ticket is linked, the P1 one escalates, and the progress cursor is saved."""
        ids = open_incidents(stack, 4, p1=1)
        reports: list[tuple[int, int]] = []

        result = backfill(
            stack.rt,
            "snow",
            T0 - timedelta(days=1),
            batch_size=3,
            progress=lambda d, t: reports.append((d, t)),
        )

        cursor = stack.rt.store.get_cursor(cursor_name("snow"))
        assert (result.read, result.queued, result.processed, result.waiting) == (4, 4, 4, 0)
        assert reports == [(3, 4), (4, 4)]
        assert all(stack.rt.store.find_ref("snow", sys_id) for sys_id in ids)
        assert len(stack.jsm_issues()) == 1
        assert cursor is not None
        assert cursor.watermark == T0 + timedelta(minutes=3)

    def test_since_leaves_older_out(self, stack: Stack) -> None:
        """Tickets last changed before --since are not read."""
        ids = open_incidents(stack, 3)

        result = backfill(stack.rt, "snow", T0 + timedelta(minutes=1))

        assert result.read == 2
        assert stack.rt.store.find_ref("snow", ids[0]) is None

    def test_resumes_after_interrupt(self, stack: Stack) -> None:
        """A run stopped after its first batch resumes with the tickets not yet done."""
        open_incidents(stack, 5)

        def stop_after_first(done: int, total: int) -> None:
            raise Interrupted

        with pytest.raises(Interrupted):
            backfill(stack.rt, "snow", T0, batch_size=2, progress=stop_after_first)
        resumed = backfill(stack.rt, "snow", T0, batch_size=2)

        assert resumed.resumed
        assert resumed.started_at == T0 + timedelta(minutes=1)
        assert resumed.read == 3
        assert resumed.queued == 3

    def test_restart_reads_all(self, stack: Stack) -> None:
        """--restart ignores saved progress; tickets already synced queue nothing."""
        open_incidents(stack, 3)
        backfill(stack.rt, "snow", T0)

        again = backfill(stack.rt, "snow", T0, restart=True)

        assert not again.resumed
        assert (again.read, again.queued) == (3, 0)

    def test_throttled_read_retried(self, stack: Stack) -> None:
        """A 429 on the read is retried by the call policy after the requested wait."""
        open_incidents(stack, 2)
        stack.emulators.snow.inject_429(1, retry_after=1)

        result = backfill(stack.rt, "snow", T0)

        assert result.read == 2
        assert result.processed == 2

    def test_unknown_connector(self, stack: Stack) -> None:
        """An unknown connector is a config error naming the configured ones."""
        with pytest.raises(ConfigError, match="configured: jsm, snow"):
            backfill(stack.rt, "zendesk", T0)
