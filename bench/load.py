"""The load generator: creates escalating incidents, then changes them at a rate or at once.

It writes to the ServiceNow emulator's state as the L1 agent would through the UI, so the
writes cost the bench no HTTP. Each write runs the emulator's rules and listeners, and the
notice listener sends the webhook.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from bench.tracker import ChangeTracker, marker
from tierbridge.emulators.servicenow.state import ServiceNowState

__all__ = ["BenchTicket", "LoadGenerator"]

_AGENT = "agent.l1"
#: Impact 1 and urgency 1 give priority 1, which the demo config escalates to L2.
_ESCALATING = {"impact": "1", "urgency": "1", "description": "Created by the benchmark."}


@dataclass(frozen=True)
class BenchTicket:
    index: int
    sys_id: str


class LoadGenerator:
    """Makes numbered changes to a pool of incidents; every change gets the next `seq`."""

    def __init__(self, state: ServiceNowState, tracker: ChangeTracker) -> None:
        self.tickets: list[BenchTicket] = []
        self._state = state
        self._tracker = tracker
        self._seq = 0
        self._cursor = 0

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def create_tickets(self, count: int) -> None:
        """Create `count` priority-1 incidents, which the daemon escalates to JSM."""
        for _ in range(count):
            index = len(self.tickets)
            seq = self._next_seq()
            self._tracker.changed(index, seq)
            values = {**_ESCALATING, "short_description": marker(index, seq)}
            record = self._state.insert("incident", values, user=_AGENT)
            self.tickets.append(BenchTicket(index, record["sys_id"]))

    def change_next(self) -> None:
        """Change the short description of the next ticket, round robin over the pool."""
        ticket = self.tickets[self._cursor % len(self.tickets)]
        self._cursor += 1
        seq = self._next_seq()
        self._tracker.changed(ticket.index, seq)
        values = {"short_description": marker(ticket.index, seq)}
        self._state.update("incident", ticket.sys_id, values, user=_AGENT)

    def steady(self, rate: float, seconds: float) -> int:
        """Make changes at `rate` per second for `seconds`; return how many were made.

        Each change has a fixed slot on the schedule, so a slow write does not lower the rate.
        """
        count = int(rate * seconds)
        started = time.monotonic()
        for index in range(count):
            wait = started + index / rate - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self.change_next()
        return count

    def burst(self, count: int) -> int:
        """Make `count` changes as fast as the emulator takes them; return `count`.

        NOTE: a burst larger than the pool changes some tickets twice or more. A worker
        that reads such a ticket late finds all its changes made and writes them at once,
        so the burst's rate then counts changes that were not synced one by one.
        """
        for _ in range(count):
            self.change_next()
        return count
