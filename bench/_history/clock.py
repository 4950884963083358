"""The one clock of a scenario: read by both emulators and by the daemon's runtime."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

__all__ = ["START", "ScenarioClock"]

#: Time at which every seed starts, so that a seed replays with the same timestamps.
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
_TICK = timedelta(milliseconds=1)


class ScenarioClock:
    """Time that the scenario moves forward, and that advances 1 ms at every reading.

    The tick keeps timestamps strictly increasing, so two writes never share a Jira
    `updated` value (the connector's version), as they would with a frozen clock. The
    number of readings per request is fixed, so a seed replays with the same timestamps.
    """

    def __init__(self, start: datetime = START) -> None:
        self._start = start
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            self._now += _TICK
            return self._now

    def advance(self, seconds: float) -> None:
        """Move time forward by `seconds` (may be fractional)."""
        with self._lock:
            self._now += timedelta(seconds=seconds)

    def advance_to(self, moment: datetime) -> None:
        """Move time forward to `moment`; an earlier moment leaves the clock as it is."""
        with self._lock:
            self._now = max(self._now, moment)

    def reset(self) -> None:
        """Go back to the start time, for the next seed."""
        with self._lock:
            self._now = self._start
