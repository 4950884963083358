"""Daemon crashes in the middle of an event, placed around one write call.

`CrashingConnector` wraps a real connector and counts the calls that change a system. When
the scenario arms the `Fuse`, the chosen write either never leaves (a crash just before it)
or succeeds without the daemon learning of it (a crash just after it). `SimulatedCrash` is a
BaseException, so it passes the engine's `except Exception` like a killed process would,
and leaves the event claimed with its lease, the outbox and the comment map as they were.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from tierbridge.core.connector import Connector, IntakeEvent, NativeRecord
from tierbridge.core.model import Comment

__all__ = ["CrashingConnector", "Fuse", "SimulatedCrash"]

T = TypeVar("T")


class SimulatedCrash(BaseException):
    """The daemon's process dies here."""


@dataclass
class Fuse:
    """Counts down write calls; at zero the write crashes, before or after it is sent."""

    remaining: int = 0
    after: bool = False
    blown: int = 0

    def arm(self, writes: int, *, after: bool) -> None:
        self.remaining = writes
        self.after = after

    def disarm(self) -> None:
        self.remaining = 0

    def guard(self, write: Callable[[], T]) -> T:
        """Run one write call, crashing around it if this is the armed one."""
        if self.remaining <= 0:
            return write()
        self.remaining -= 1
        if self.remaining > 0:
            return write()
        self.blown += 1
        if not self.after:
            raise SimulatedCrash("crash before a write")
        write()
        raise SimulatedCrash("crash after a write")


class CrashingConnector(Connector):
    """A connector that passes every call to `inner`, with writes guarded by a fuse."""

    def __init__(self, inner: Connector, fuse: Fuse) -> None:
        super().__init__(inner.name)
        self.inner = inner
        self.fuse = fuse
        self.system = inner.system  # type: ignore[misc]

    def __getattr__(self, name: str) -> Any:
        # Optional hooks that other parts of the daemon may call (a batch read, say).
        return getattr(self.inner, name)

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> None:
        self.inner.verify_webhook(headers, body)

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[IntakeEvent]:
        return self.inner.parse_webhook(headers, body)

    def changed_since(self, since: datetime | None) -> Iterator[NativeRecord]:
        return self.inner.changed_since(since)

    def get_record(self, ticket_id: str) -> NativeRecord:
        return self.inner.get_record(ticket_id)

    def list_comments(self, ticket_id: str) -> list[Comment]:
        return self.inner.list_comments(ticket_id)

    def find_by_correlation(self, correlation_id: str) -> NativeRecord | None:
        return self.inner.find_by_correlation(correlation_id)

    def create_record(self, fields: Mapping[str, Any], correlation_id: str) -> NativeRecord:
        return self.fuse.guard(lambda: self.inner.create_record(fields, correlation_id))

    def update_record(self, ticket_id: str, fields: Mapping[str, Any]) -> NativeRecord:
        return self.fuse.guard(lambda: self.inner.update_record(ticket_id, fields))

    def add_comment(self, ticket_id: str, body: str, *, public: bool) -> Comment:
        return self.fuse.guard(lambda: self.inner.add_comment(ticket_id, body, public=public))

    def update_comment(self, ticket_id: str, comment_id: str, body: str) -> Comment:
        return self.fuse.guard(lambda: self.inner.update_comment(ticket_id, comment_id, body))

    def close(self) -> None:
        self.inner.close()
