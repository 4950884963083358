"""Webhook deliveries with network faults: dropped, duplicated, delayed and reordered.

The emulators' own senders stay unsubscribed. Instead each actor passes every change notice
its emulator would send to `Deliveries.capture`, and the scenario decides when each one
reaches the daemon's inbox. Delivery parses the body with the connector's `parse_webhook`
and stores the events with `Store.add_event`, as the webhook server does after a valid
signature. Every fault is drawn from the seed, so a seed replays the same deliveries.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tierbridge.core.runtime import Runtime

__all__ = ["Deliveries", "FaultRates", "Notice"]


@dataclass(frozen=True)
class FaultRates:
    """Chance of each fault per notice; a delayed notice waits 1 to `max_delay` deliveries."""

    drop: float = 0.12
    duplicate: float = 0.12
    #: Share of duplicates sent with a new delivery id, as when a vendor fires a rule twice.
    #: The others repeat the id, as a vendor's retry does, so the inbox must drop them.
    new_id: float = 0.5
    delay: float = 0.3
    max_delay: int = 4


@dataclass
class Notice:
    """One webhook as the vendor would send it, waiting for its turn."""

    connector: str
    headers: dict[str, str]
    body: bytes
    wait: int = 0


@dataclass
class Deliveries:
    """The notices captured during one seed and not yet delivered."""

    rng: random.Random
    rates: FaultRates = field(default_factory=FaultRates)
    waiting: list[Notice] = field(default_factory=list)
    dropped: int = 0
    delivered: int = 0
    _count: int = 0

    def capture(self, connector: str, headers: Mapping[str, str], body: bytes) -> None:
        """Queue a notice, after drawing whether it is lost, doubled or held back."""
        self._count += 1
        if self.rng.random() < self.rates.drop:
            self.dropped += 1
            return
        notice = Notice(connector, dict(headers), body, self._delay())
        self.waiting.append(notice)
        if self.rng.random() < self.rates.duplicate:
            copy = Notice(connector, dict(headers), body, self._delay())
            if self.rng.random() < self.rates.new_id:
                copy.headers = {name: f"{value}-again" for name, value in headers.items()}
            self.waiting.append(copy)

    def _delay(self) -> int:
        if self.rng.random() < self.rates.delay:
            return self.rng.randint(1, self.rates.max_delay)
        return 0

    def deliver(self, rt: Runtime, limit: int) -> int:
        """Deliver up to `limit` notices whose delay is over, in a shuffled order.

        Every waiting notice's delay counts down by one, so a held-back notice overtakes
        nothing forever. Returns the number of events stored.
        """
        ready = [notice for notice in self.waiting if notice.wait <= 0]
        for notice in self.waiting:
            notice.wait -= 1
        self.rng.shuffle(ready)
        chosen = ready[:limit]
        for notice in chosen:
            self.waiting.remove(notice)
        return sum(self._store(rt, notice) for notice in chosen)

    def flush(self, rt: Runtime) -> int:
        """Deliver every waiting notice, shuffled, whatever its delay."""
        chosen = list(self.waiting)
        self.waiting.clear()
        self.rng.shuffle(chosen)
        return sum(self._store(rt, notice) for notice in chosen)

    def _store(self, rt: Runtime, notice: Notice) -> int:
        connector = rt.connectors[notice.connector]
        events = connector.parse_webhook(notice.headers, notice.body)
        stored = 0
        for event in events:
            new_id = rt.store.add_event(
                notice.connector,
                event.delivery_id,
                event.ticket_id,
                event.kind,
                event.version,
                dict(event.payload),
                rt.clock(),
            )
            stored += new_id is not None
        self.delivered += 1
        return stored
