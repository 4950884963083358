"""ASGI middleware that makes an emulator slow and countable.

`RequestProbe` delays each request by the latency profile, counts requests by method and
path template, and counts echo writes: write requests that got a 2xx response and changed nothing.
It learns about changes through `note_change`, which the bench registers as a state
listener of the emulator. Listeners run inside the request that made the change, so a
context variable set here identifies that request. Changes made outside any request
(the load generator writes to the emulator's state directly) are not attributed to one.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections import Counter
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CallCounts", "RequestProbe", "path_template"]

_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_TEMPLATES = (
    (re.compile(r"/[0-9a-f]{32}(?=/|$)"), "/{sys_id}"),
    (re.compile(r"/(issue|request)/[^/]+"), r"/\1/{id}"),
)


def path_template(path: str) -> str:
    """Return `path` with sys_ids and Jira issue ids or keys replaced by placeholders."""
    for pattern, replacement in _TEMPLATES:
        path = pattern.sub(replacement, path)
    return path


def _is_read(method: str, path: str) -> bool:
    """Tell whether a request only reads; a POST to a search endpoint is a read."""
    return method in _READ_METHODS or (method == "POST" and "/search" in path)


@dataclass
class _Call:
    changes: int = 0


_current: ContextVar[_Call | None] = ContextVar("bench_current_call", default=None)


@dataclass(frozen=True)
class CallCounts:
    """Requests by (method, path template), and echo writes, over some interval."""

    by_route: Counter[tuple[str, str]] = field(default_factory=Counter)
    echo_writes: int = 0

    @property
    def reads(self) -> int:
        return sum(n for (method, path), n in self.by_route.items() if _is_read(method, path))

    @property
    def writes(self) -> int:
        return sum(self.by_route.values()) - self.reads

    def minus(self, earlier: CallCounts) -> CallCounts:
        """Return the counts since `earlier`, a snapshot of the same probe."""
        by_route = Counter(self.by_route)
        by_route.subtract(earlier.by_route)
        return CallCounts(+by_route, self.echo_writes - earlier.echo_writes)

    def plus(self, other: CallCounts) -> CallCounts:
        """Return the sum of two probes' counts."""
        return CallCounts(self.by_route + other.by_route, self.echo_writes + other.echo_writes)


class RequestProbe:
    """Pass to an emulator as `middleware`; `delay` returns the seconds to wait per request."""

    def __init__(self, delay: Callable[[], float] | None = None) -> None:
        self._delay = delay
        self._app: ASGIApp | None = None
        self._lock = threading.Lock()
        self._routes: Counter[tuple[str, str]] = Counter()
        self._echo_writes = 0

    def __call__(self, app: ASGIApp) -> ASGIApp:
        """Wrap the emulator's app; the emulator calls this once, at construction."""
        self._app = app
        return self._handle

    def note_change(self, *_event: object) -> None:
        """Record that the current request changed the emulator's state (a state listener)."""
        call = _current.get()
        if call is not None:
            call.changes += 1

    def snapshot(self) -> CallCounts:
        """Return the counts so far."""
        with self._lock:
            return CallCounts(Counter(self._routes), self._echo_writes)

    async def _handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self._app is not None
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return

        method = str(scope["method"])
        path = path_template(str(scope["path"]))
        if self._delay is not None:
            await asyncio.sleep(self._delay())

        call = _Call()
        status = 0

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        token = _current.set(call)
        try:
            await self._app(scope, receive, record_status)
        finally:
            _current.reset(token)
            echo = not _is_read(method, path) and 200 <= status < 300 and call.changes == 0
            with self._lock:
                self._routes[(method, path)] += 1
                self._echo_writes += echo
