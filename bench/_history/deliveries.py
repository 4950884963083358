"""Webhook deliveries with network faults: dropped, duplicated, delayed and reordered.

The emulators' own senders stay unsubscribed. Instead each actor passes every change notice
its emulator would send to `Deliveries.capture`, and the scenario decides when each one
reaches the daemon's inbox. Delivery checks the notice with the connector's
`verify_webhook`, parses it with `parse_webhook` and stores the events with
`Store.add_event`, as the webhook server does. Every fault is drawn from the seed, so a
seed replays the same deliveries.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tierbridge.core.runtime import Runtime

__all__ = ["Build", "Deliveries", "FaultRates", "Notice"]

#: Builds one delivery of a change (headers, body), with a delivery id of its own per call.
Build = Callable[[], tuple[Mapping[str, str], bytes]]


@dataclass(frozen=True)
class FaultRates:
    """Chance of each fault per notice; a delayed notice waits 1 to `max_delay` deliveries."""

    drop: float = 0.12
    duplicate: float = 0.12
    #: Share of duplicates sent with a new delivery id, as when a vendor fires a rule twice.
    #: The others repeat the delivery as it was, as a vendor's retry does, so the inbox must
    #: drop them.
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

    def capture(self, connector: str, build: Build, *, droppable: bool = True) -> None:
        """Queue a notice, after drawing whether it is lost, doubled or held back.

        `build` is called once for the notice and once more for a duplicate with a new
        delivery id. A notice that is not `droppable` may still be held back or doubled,
        but always arrives.
        """
        self._count += 1
        lost = self.rng.random() < self.rates.drop
        if lost and droppable:
            self.dropped += 1
            return
        headers, body = build()
        self.waiting.append(Notice(connector, dict(headers), body, self._delay()))
        if self.rng.random() < self.rates.duplicate:
            wait = self._delay()
            if self.rng.random() < self.rates.new_id:
                headers, body = build()
            self.waiting.append(Notice(connector, dict(headers), body, wait))

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
        """Check, parse and store one notice, and raise if the check fails.

        Every notice is one the vendor would send, so a failed check is a fault of the
        actor that built it or of the connector, and it fails the seed.
        """
        connector = rt.connectors[notice.connector]
        connector.verify_webhook(notice.headers, notice.body)
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
