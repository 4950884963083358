"""`Limiter`: the client-side rate limit of one connector.

Each connector owns one `Limiter`, so a throttled system never slows the others: limiters
share no lock and no state. A connector's HTTP adapter wraps every request in `permit()`,
which waits until no backoff covers the request's scope, and passes every response to
`observe()`, which turns the vendor's limit headers (through the connector's `SignalParser`)
into backoffs and pacing.

A scope is `CONNECTOR_SCOPE` (every call of the connector) or a narrower name that a
connector chooses, such as `issue:10001` for Jira's per-issue write limit. A request waits
for its own scope and for the connector scope.

When a backoff ends, one request goes first as a probe, and the others in that scope wait
for its response. A throttled probe then starts a new backoff instead of a burst of
requests that would all be rejected. The adapter must call `observe()` inside the
`permit()` block, so that the response is known before the next request is let through.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import structlog

from tierbridge.core.errors import ThrottledError
from tierbridge.core.limits.signals import CONNECTOR_SCOPE, Signal, SignalParser, Usage

if TYPE_CHECKING:
    from tierbridge.core.connector_settings import RateLimitSettings

__all__ = [
    "DEFAULT_ALLOCATION_CEILING",
    "DEFAULT_ALLOCATION_RECHECK_SECONDS",
    "DEFAULT_MAX_BLOCK_SECONDS",
    "Limiter",
]

_log = structlog.get_logger(__name__)

#: Matches `CallPolicy`'s longest in-call wait, so a blocked call costs no more than a retry.
DEFAULT_MAX_BLOCK_SECONDS = 5.0
DEFAULT_ALLOCATION_CEILING = 0.8
DEFAULT_ALLOCATION_RECHECK_SECONDS = 900.0
_DAY_SECONDS = 86400.0
_MAX_RECOVERING = 1000


class Limiter:
    """Backoffs, pacing and a concurrency cap for the calls of one connector; thread-safe.

    A request whose scope is blocked waits when the wait fits in `max_block_seconds`.
    Otherwise `permit()` raises `ThrottledError` carrying the remaining wait, so that the
    caller (the retry policy, then the inbox) waits instead of a worker thread.
    """

    def __init__(
        self,
        connector: str,
        parser: SignalParser,
        *,
        max_block_seconds: float = DEFAULT_MAX_BLOCK_SECONDS,
        max_concurrency: int | None = None,
        allocation_ceiling: float = DEFAULT_ALLOCATION_CEILING,
        allocation_recheck_seconds: float = DEFAULT_ALLOCATION_RECHECK_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.connector = connector
        self._parser = parser
        self._max_block = max_block_seconds
        self._ceiling = allocation_ceiling
        self._recheck = allocation_recheck_seconds
        self._clock = clock
        self._wall_clock = wall_clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._blocked: dict[str, tuple[float, str]] = {}
        #: Scopes that were throttled and have had no unthrottled response since.
        self._recovering: set[str] = set()
        #: Scopes whose probe request is in flight.
        self._probing: set[str] = set()
        self._probe_done = threading.Condition(self._lock)
        self._interval = 0.0
        self._next_start = 0.0
        self._slots = threading.BoundedSemaphore(max_concurrency) if max_concurrency else None

    @classmethod
    def from_settings(
        cls, connector: str, settings: RateLimitSettings, parser: SignalParser, **kwargs: Any
    ) -> Limiter:
        """Build the limiter a connector's `rate_limit` settings describe; `kwargs` (clocks,
        `sleep`) are for tests."""
        return cls(
            connector,
            parser,
            max_block_seconds=settings.max_block_seconds,
            max_concurrency=settings.max_concurrency,
            allocation_ceiling=settings.allocation_ceiling,
            allocation_recheck_seconds=settings.allocation_recheck_seconds,
            **kwargs,
        )

    def use_time(
        self,
        *,
        clock: Callable[[], float] | None = None,
        wall_clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        """Replace the time sources, for tests and simulations that must not wait in real time."""
        self._clock = clock or self._clock
        self._wall_clock = wall_clock or self._wall_clock
        self._sleep = sleep or self._sleep

    # -- before a request -------------------------------------------------------------

    @contextmanager
    def permit(self, scope: str = CONNECTOR_SCOPE, *, operation: str = "call") -> Iterator[None]:
        """Hold a permit for one request in `scope`; raise ThrottledError if it must wait longer."""
        waited, probes = self._wait_for(scope, operation)
        try:
            self._take_slot(operation, waited)
        except ThrottledError:
            self._end_probe(probes, responded=False)
            raise
        responded = False
        try:
            yield
            responded = True
        finally:
            if self._slots is not None:
                self._slots.release()
            self._end_probe(probes, responded=responded)

    def remaining_wait(self, scope: str = CONNECTOR_SCOPE) -> float:
        """Seconds before a request in `scope` may be sent; 0.0 if it may be sent now."""
        with self._lock:
            wait, _reason = self._wait_locked(scope)
        return max(wait, 0.0)

    def _wait_for(self, scope: str, operation: str) -> tuple[float, set[str]]:
        """Wait until `scope` is open, within the block budget.

        Return the seconds waited and the scopes this request probes after a backoff.
        """
        waited = 0.0
        while True:
            with self._lock:
                wait, reason = self._wait_locked(scope)
                if wait <= 0:
                    probes = self._recovering & {CONNECTOR_SCOPE, scope}
                    if not probes & self._probing:
                        self._probing |= probes
                        self._next_start = self._clock() + self._interval
                        return waited, probes
                    waited += self._await_probe(waited, operation)
                    continue
            if waited + wait > self._max_block:
                raise self._throttled(wait, reason, operation)
            _log.info(
                "rate_limit_wait",
                connector=self.connector,
                scope=scope,
                wait_seconds=round(wait, 3),
                reason=reason,
            )
            self._sleep(wait)
            waited += wait

    def _await_probe(self, waited: float, operation: str) -> float:
        """Wait for the response to another request's probe; the caller holds the lock."""
        budget = self._max_block - waited
        if budget <= 0:
            msg = (
                "the first request after a throttle is still waiting for its response; "
                "retry once it is in"
            )
            raise ThrottledError(
                msg, retry_after=None, connector=self.connector, operation=operation
            )
        started = time.monotonic()
        self._probe_done.wait(timeout=budget)
        return time.monotonic() - started

    def _end_probe(self, probes: set[str], *, responded: bool) -> None:
        """Reopen the scopes whose probe got a response without a new backoff; wake the waiters."""
        if not probes:
            return
        with self._lock:
            self._probing -= probes
            now = self._clock()
            for name in probes:
                if responded and self._blocked.get(name, (0.0, ""))[0] <= now:
                    self._recovering.discard(name)
            self._probe_done.notify_all()

    def _wait_locked(self, scope: str) -> tuple[float, str]:
        now = self._clock()
        wait, reason = self._next_start - now, "pacing under the API allocation ceiling"
        for name in {CONNECTOR_SCOPE, scope}:
            until, blocked_reason = self._blocked.get(name, (0.0, ""))
            if until - now > wait:
                wait, reason = until - now, blocked_reason
        return wait, reason

    def _take_slot(self, operation: str, waited: float) -> None:
        if self._slots is None:
            return
        budget = max(self._max_block - waited, 0.0)
        if not self._slots.acquire(timeout=budget):
            msg = (
                "every rate_limit.max_concurrency slot stayed busy for "
                f"{self._max_block:g} s (rate_limit.max_block_seconds)"
            )
            raise ThrottledError(
                msg, retry_after=None, connector=self.connector, operation=operation
            )

    def _throttled(self, wait: float, reason: str, operation: str) -> ThrottledError:
        msg = (
            f"throttled ({reason}); {wait:.1f} s left, more than "
            f"rate_limit.max_block_seconds ({self._max_block:g} s)"
        )
        return ThrottledError(msg, retry_after=wait, connector=self.connector, operation=operation)

    # -- after a response -------------------------------------------------------------

    def observe(
        self,
        status: int,
        headers: Mapping[str, str],
        body: bytes = b"",
        scope: str = CONNECTOR_SCOPE,
    ) -> Signal:
        """Apply what a response reports about the limits, and return it."""
        signal = self._parser(status, headers, body, scope, self._wall_clock())
        if signal.backoff is not None:
            backoff = signal.backoff
            seconds = self._recheck if backoff.seconds is None else backoff.seconds
            self.defer(seconds, backoff.reason, backoff.scope)
        if signal.usage is not None:
            self._pace(signal.usage)
        return signal

    def defer(self, seconds: float, reason: str, scope: str = CONNECTOR_SCOPE) -> None:
        """Keep every request in `scope` back for `seconds` from now, or longer if already so."""
        now = self._clock()
        with self._lock:
            self._blocked = {k: v for k, v in self._blocked.items() if v[0] > now}
            until, _reason = self._blocked.get(scope, (0.0, ""))
            if now + seconds > until:
                self._blocked[scope] = (now + seconds, reason)
            if len(self._recovering) >= _MAX_RECOVERING:
                # Scopes such as `issue:<id>` may never see another request; forget the
                # expired ones, which then go without a probe on their next request.
                self._recovering &= {*self._blocked, CONNECTOR_SCOPE} | self._probing
            self._recovering.add(scope)
        _log.warning(
            "rate_limited",
            connector=self.connector,
            scope=scope,
            wait_seconds=round(seconds, 3),
            reason=reason,
        )

    def _pace(self, usage: Usage) -> None:
        """Defer at the allocation ceiling; above half of it, spread calls over the day.

        NOTE: spacing calls by 24 h / ceiling is an estimate. A rolling 24 h window frees
        calls as old ones age out, and other users of the same org draw on the same
        allocation. The usage can therefore still reach the ceiling, and then the deferral
        applies.
        """
        if usage.limit <= 0:
            return
        ceiling = usage.limit * self._ceiling
        if usage.used >= ceiling:
            reason = (
                f"API allocation used {usage.used} of {usage.limit}, at the ceiling "
                f"rate_limit.allocation_ceiling={self._ceiling:g}"
            )
            self.defer(self._recheck, reason)
            return
        interval = _DAY_SECONDS / ceiling if usage.used >= ceiling / 2 else 0.0
        with self._lock:
            self._interval = interval
