"""Every field value the emulators accepted during one seed, in order, and who wrote it."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["Created", "Journal", "Synced", "Write"]


@dataclass(frozen=True)
class Write:
    """One accepted change of one canonical field; `seq` orders writes across both systems."""

    seq: int
    connector: str
    ticket: str
    field: str
    value: object
    human: bool


@dataclass(frozen=True)
class Created:
    """A ticket that appeared in a system, and the correlation key it was created with."""

    seq: int
    connector: str
    ticket: str
    human: bool
    correlation: str | None


@dataclass(frozen=True)
class Synced:
    """A snapshot the daemon saved: what it took a ticket to hold after a sync."""

    seq: int
    connector: str
    ticket: str
    data: dict[str, object]


@dataclass
class Journal:
    """The write history that the oracle checks, fed by the actors' emulator listeners.

    Listeners run on the emulators' server threads while the scenario thread waits for the
    response, so writes arrive one at a time. The lock keeps the history whole even if not.
    """

    writes: list[Write] = field(default_factory=list)
    created: list[Created] = field(default_factory=list)
    synced: list[Synced] = field(default_factory=list)
    _last: dict[tuple[str, str, str], object] = field(default_factory=dict)
    _seq: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def next_seq(self) -> int:
        """Return the next position in the history, for events that are not writes."""
        with self._lock:
            return next(self._seq)

    def observe(
        self, connector: str, ticket: str, values: Mapping[str, object], *, human: bool
    ) -> None:
        """Record the fields of a saved ticket whose value differs from the last one seen."""
        with self._lock:
            seq = next(self._seq)
            for name, value in values.items():
                key = (connector, ticket, name)
                if key in self._last and self._last[key] == value:
                    continue
                self._last[key] = value
                self.writes.append(Write(seq, connector, ticket, name, value, human))

    def note_created(
        self, connector: str, ticket: str, *, human: bool, correlation: str | None
    ) -> None:
        """Record a ticket's creation; call it before `observe` for the same save."""
        with self._lock:
            seq = next(self._seq)
            self.created.append(Created(seq, connector, ticket, human, correlation))

    def note_synced(self, connector: str, ticket: str, data: Mapping[str, object]) -> None:
        """Record a snapshot the daemon saved for a ticket."""
        with self._lock:
            seq = next(self._seq)
            self.synced.append(Synced(seq, connector, ticket, dict(data)))

    def synced_until(self, connector: str, ticket: str, seq: int) -> list[Synced]:
        """Return the snapshots saved for a ticket before position `seq`, oldest first."""
        return [
            entry
            for entry in self.synced
            if entry.connector == connector and entry.ticket == ticket and entry.seq < seq
        ]

    def history(self, connector: str, ticket: str, name: str) -> list[Write]:
        """Return the writes of one field of one ticket, oldest first."""
        return [
            write
            for write in self.writes
            if write.connector == connector and write.ticket == ticket and write.field == name
        ]
