"""Follow each source change from its webhook to the target write that carries its value.

Every change the load generator makes writes a marker, `bench t<ticket> #<seq>`, into the
incident's short description. The mapping copies it to the JSM summary, so the JSM state
listener can tell which change a write delivered. A write that carries change `seq` of a
ticket also delivers that ticket's earlier changes still pending, because the target now
contains their values or newer ones.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from tierbridge.emulators.jira.state import Change

__all__ = ["ChangeTracker", "Window", "marker", "parse_marker", "percentile"]

_MARKER = re.compile(r"bench t(\d+) #(\d+)")
_SUMMARY_EVENTS = frozenset({"issue_created", "issue_updated"})


def marker(ticket: int, seq: int) -> str:
    """Return the short description that carries change `seq` of bench ticket `ticket`."""
    return f"bench t{ticket} #{seq}"


def parse_marker(text: str) -> tuple[int, int] | None:
    """Return (ticket, seq) from a marked text, or None if it carries no marker."""
    found = _MARKER.search(text)
    return (int(found.group(1)), int(found.group(2))) if found else None


def percentile(values: Sequence[float], q: float) -> float:
    """Return the `q`-th percentile (0-100) by linear interpolation; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass
class _Pending:
    seq: int
    changed_at: float
    sent_at: float | None = None


@dataclass
class Window:
    """The changes, notices and deliveries since the last `ChangeTracker.take_window()`.

    Times are `time.monotonic()` values.
    """

    latencies_ms: list[float] = field(default_factory=list)
    acks_ms: list[float] = field(default_factory=list)
    ack_failures: int = 0
    changes: int = 0
    delivered: int = 0
    delivered_before_send: int = 0
    first_change_at: float | None = None
    last_delivery_at: float | None = None


class ChangeTracker:
    """Thread-safe record of changes made, notices sent and target writes seen."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[int, deque[_Pending]] = {}
        self._by_seq: dict[int, _Pending] = {}
        self._window = Window()
        #: The JSM issue key of each bench ticket, learned from the JSM state listener.
        self.issue_keys: dict[int, str] = {}

    def changed(self, ticket: int, seq: int) -> None:
        """Record a change about to be written to the source; call it before the write."""
        now = time.monotonic()
        with self._lock:
            pending = _Pending(seq, now)
            self._pending.setdefault(ticket, deque()).append(pending)
            self._by_seq[seq] = pending
            self._window.changes += 1
            if self._window.first_change_at is None:
                self._window.first_change_at = now

    def sent(self, seq: int | None, sent_at: float, ack_ms: float | None) -> None:
        """Record one notice delivery; `ack_ms` None means it failed after all retries."""
        with self._lock:
            if ack_ms is None:
                self._window.ack_failures += 1
            else:
                self._window.acks_ms.append(ack_ms)
            pending = self._by_seq.get(seq) if seq is not None else None
            if pending is not None and pending.sent_at is None:
                pending.sent_at = sent_at

    def on_jira_change(self, change: Change) -> None:
        """JSM state listener: a created or renamed issue delivers the changes it carries."""
        if change.event_type not in _SUMMARY_EVENTS:
            return
        if change.event_type == "issue_updated" and not any(
            item.field_id == "summary" for item in change.items
        ):
            return
        parsed = parse_marker(change.issue.summary)
        if parsed is not None:
            self.delivered(parsed[0], parsed[1], change.issue.key)

    def delivered(self, ticket: int, seq: int, issue_key: str) -> None:
        """Settle every pending change of `ticket` up to `seq`, now visible in the target."""
        now = time.monotonic()
        with self._lock:
            self.issue_keys[ticket] = issue_key
            pending = self._pending.get(ticket)
            while pending and pending[0].seq <= seq:
                done = pending.popleft()
                self._by_seq.pop(done.seq, None)
                self._settle(done, now)

    def _settle(self, done: _Pending, now: float) -> None:
        window = self._window
        window.delivered += 1
        window.last_delivery_at = now
        if done.sent_at is None:
            # The worker read a newer record than its own notice, before this one was sent.
            window.delivered_before_send += 1
            return
        window.latencies_ms.append((now - done.sent_at) * 1000)

    def outstanding(self) -> int:
        """Count the changes not yet delivered to the target."""
        with self._lock:
            return len(self._by_seq)

    def take_window(self) -> Window:
        """Return what happened since the last call and start a new window."""
        with self._lock:
            window, self._window = self._window, Window()
            return window
