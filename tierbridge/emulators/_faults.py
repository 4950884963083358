"""Seeded fault injection for every emulator: latency, connection resets, 5xx and 429 storms.

`FaultInjector` decides, per incoming request, how long to delay it and which fault (if
any) to respond with. Random faults come from a `FaultPlan` and a seeded generator, so a run
with the same seed and the same request order draws the same faults. A 429 storm responds to the
next N requests with 429 and a `Retry-After`, and the injector counts the requests that
arrive before that wait has passed (`FaultStats.early`), which a well-behaved client keeps
at zero.

`FaultMiddleware` applies the decisions in front of an emulator's ASGI app. Each emulator
passes a function that renders a fault in its vendor's wire format.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["Fault", "FaultInjector", "FaultMiddleware", "FaultPlan", "FaultStats"]

FaultKind = Literal["reset", "error", "throttle"]


@dataclass(frozen=True)
class FaultPlan:
    """What to inject; everything is off by default.

    `latency_seconds` is the (low, high) range of a uniform delay added to every request.
    `reset_rate` and `error_rate` are the chances, per request, of a dropped connection and
    of an error status drawn from `error_statuses`. `storm_count` requests, starting with
    the next one, get 429 with `Retry-After: storm_retry_after` seconds.
    """

    latency_seconds: tuple[float, float] = (0.0, 0.0)
    reset_rate: float = 0.0
    error_rate: float = 0.0
    error_statuses: tuple[int, ...] = (500, 502, 503, 504)
    storm_count: int = 0
    storm_retry_after: int = 1

    def __post_init__(self) -> None:
        low, high = self.latency_seconds
        if not 0 <= low <= high:
            msg = f"latency_seconds must be (low, high) with 0 <= low <= high, got {self.latency_seconds}"
            raise ValueError(msg)
        if not 0 <= self.reset_rate + self.error_rate <= 1:
            msg = "reset_rate and error_rate must be >= 0 and add up to at most 1"
            raise ValueError(msg)
        if self.error_rate and not self.error_statuses:
            raise ValueError("error_rate needs at least one status in error_statuses")
        if self.storm_count < 0 or self.storm_retry_after < 0:
            raise ValueError("storm_count and storm_retry_after must be >= 0")


@dataclass(frozen=True)
class Fault:
    """One injected response: a dropped connection, an error status, or a 429."""

    kind: FaultKind
    status: int = 0
    retry_after: int = 0
    #: Vendor-specific name of the limit a 429 reports (Jira's `RateLimit-Reason`).
    reason: str = ""


@dataclass
class FaultStats:
    """Counts since construction or the last `reset()`."""

    requests: int = 0
    delayed: int = 0
    resets: int = 0
    errors: int = 0
    throttled: int = 0
    #: Requests that arrived while a served 429's `Retry-After` was still running.
    early: int = 0
    #: Longest time from a served 429 to the next request, in seconds.
    max_wait_seconds: float = 0.0


@dataclass
class _Storm:
    remaining: int = 0
    retry_after: int = 1
    reason: str = ""


@dataclass
class _Window:
    """When the last 429 went out, and until when no request should arrive."""

    quiet_until: float = float("-inf")
    last_throttle_at: float | None = None


class FaultInjector:
    """Draws the delay and fault of each request; thread-safe, configurable at run time."""

    def __init__(
        self,
        plan: FaultPlan | None = None,
        *,
        seed: int = 0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._initial = plan or FaultPlan()
        self._seed = seed
        self._clock = clock
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Return to the construction plan and seed, with no storm pending and zero counts."""
        with self._lock:
            self._random = random.Random(self._seed)
            self._stats = FaultStats()
            self._window = _Window()
            self._apply(self._initial)

    def configure(self, plan: FaultPlan) -> None:
        """Replace the plan from the next request on; its storm, if any, starts now."""
        with self._lock:
            self._apply(plan)

    def storm(self, count: int, retry_after: int = 1, reason: str = "") -> None:
        """Answer the next `count` requests with 429 and `Retry-After: retry_after`."""
        if count < 0 or retry_after < 0:
            raise ValueError("count and retry_after must be >= 0")
        with self._lock:
            self._storm = _Storm(count, retry_after, reason)

    @property
    def stats(self) -> FaultStats:
        """A copy of the counts."""
        with self._lock:
            return replace(self._stats)

    def _apply(self, plan: FaultPlan) -> None:
        self._plan = plan
        self._storm = _Storm(plan.storm_count, plan.storm_retry_after)

    def draw(self) -> tuple[float, Fault | None]:
        """Record one arriving request and return its delay in seconds and its fault."""
        now = self._clock()
        with self._lock:
            self._note_arrival(now)
            low, high = self._plan.latency_seconds
            delay = self._random.uniform(low, high) if high > 0 else 0.0
            fault = self._pick()
            self._count(delay, fault, now)
        return delay, fault

    def _note_arrival(self, now: float) -> None:
        stats, window = self._stats, self._window
        stats.requests += 1
        if now < window.quiet_until:
            stats.early += 1
        if window.last_throttle_at is not None:
            stats.max_wait_seconds = max(stats.max_wait_seconds, now - window.last_throttle_at)
            window.last_throttle_at = None

    def _pick(self) -> Fault | None:
        if self._storm.remaining > 0:
            self._storm.remaining -= 1
            return Fault("throttle", 429, self._storm.retry_after, self._storm.reason)
        plan = self._plan
        chance = self._random.random()
        if chance < plan.reset_rate:
            return Fault("reset")
        if chance < plan.reset_rate + plan.error_rate:
            return Fault("error", self._random.choice(plan.error_statuses))
        return None

    def _count(self, delay: float, fault: Fault | None, now: float) -> None:
        stats = self._stats
        stats.delayed += delay > 0
        if fault is None:
            return
        if fault.kind == "reset":
            stats.resets += 1
        elif fault.kind == "error":
            stats.errors += 1
        else:
            stats.throttled += 1
            sent_at = now + delay
            self._window.last_throttle_at = sent_at
            self._window.quiet_until = max(self._window.quiet_until, sent_at + fault.retry_after)


#: Renders one fault as the response the emulated vendor would send.
FaultRenderer = Callable[[Fault], Response]


class FaultMiddleware:
    """ASGI middleware that delays requests and responds to some with the injector's faults."""

    def __init__(self, app: ASGIApp, injector: FaultInjector, render: FaultRenderer) -> None:
        self.app = app
        self.injector = injector
        self._render = render

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        delay, fault = self.injector.draw()
        if delay > 0:
            await asyncio.sleep(delay)
        if fault is None:
            await self.app(scope, receive, send)
        elif fault.kind == "reset":
            await _drop_connection(send)
        else:
            await self._render(fault)(scope, receive, send)


async def _drop_connection(send: Send) -> None:
    """Close the TCP connection without a response, as a reset or a crashed proxy would.

    NOTE: ASGI has no message for this. uvicorn's `send` is a method of the request cycle,
    which holds the transport, so the connection is aborted through it. Behind a middleware
    that wraps `send`, the fallback starts a response and fails it, so the client reads a
    truncated response instead of none.
    """
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is not None:
        transport.abort()
        # Let uvicorn see the lost connection, so it does not try to respond with a 500.
        await asyncio.sleep(0)
        return
    headers = [(b"content-type", b"application/json"), (b"content-length", b"100")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    raise ConnectionResetError("connection dropped by fault injection")
