"""A clock for emulators that moves only when a test moves it."""

from __future__ import annotations

from datetime import datetime, timedelta

from tierbridge.testing.target import CONTRACT_START

__all__ = ["ManualClock"]


class ManualClock:
    """Return `now` when called; `advance` moves it. Every record written meanwhile shares it."""

    def __init__(self, start: datetime = CONTRACT_START) -> None:
        self.start = start
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        """Move the clock forward by `seconds` and return the new time."""
        self.now += timedelta(seconds=seconds)
        return self.now

    def rewind(self) -> None:
        """Set the clock back to its start, for the next test."""
        self.now = self.start
