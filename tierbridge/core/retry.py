"""The one retry policy for calls to ticketing systems.

Exponential backoff with full jitter, a cap per wait and a total deadline, retrying only
`RetryableError`. A `ThrottledError` waits at least as long as the vendor asked. Longer
outages are not waited out here: the engine puts the event back in the inbox with a later
`available_at` (see `event_backoff`), so one slow system never holds a worker.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

import structlog
import tenacity

from tierbridge.core.errors import RetryableError, ThrottledError

__all__ = ["CallPolicy", "event_backoff"]

T = TypeVar("T")

_log = structlog.get_logger(__name__)

DEFAULT_ATTEMPTS = 3
DEFAULT_MAX_WAIT_SECONDS = 5.0
DEFAULT_DEADLINE_SECONDS = 30.0
EVENT_BACKOFF_BASE_SECONDS = 5.0
EVENT_BACKOFF_CAP_SECONDS = 900.0


class _WaitForVendor(tenacity.wait.wait_base):
    """Full-jitter exponential wait, raised to the vendor's `Retry-After` when it gave one."""

    def __init__(self, jitter: tenacity.wait.wait_base) -> None:
        self._jitter = jitter

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        wait = float(self._jitter(retry_state))
        outcome = retry_state.outcome
        error = outcome.exception() if outcome is not None else None
        if isinstance(error, ThrottledError) and error.retry_after is not None:
            wait = max(wait, error.retry_after)
        return wait


class _RetryShortWaits(tenacity.retry_base):
    """Retry transient errors in the call, unless the vendor asked for a wait longer than
    `max_wait`: that event goes back to the inbox instead of holding a worker."""

    def __init__(self, max_wait: float) -> None:
        self._max_wait = max_wait

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        outcome = retry_state.outcome
        error = outcome.exception() if outcome is not None else None
        if not isinstance(error, RetryableError):
            return False
        if isinstance(error, ThrottledError) and error.retry_after is not None:
            return error.retry_after <= self._max_wait
        return True


def _log_retry(retry_state: tenacity.RetryCallState) -> None:
    outcome = retry_state.outcome
    error = outcome.exception() if outcome is not None else None
    wait = retry_state.next_action.sleep if retry_state.next_action else 0.0
    _log.warning(
        "call_retry",
        attempt=retry_state.attempt_number,
        wait_seconds=round(wait, 3),
        error=str(error),
    )


class CallPolicy:
    """Runs one connector call with the standard retries; `sleep` is injectable for tests."""

    def __init__(
        self,
        *,
        attempts: int = DEFAULT_ATTEMPTS,
        max_wait_seconds: float = DEFAULT_MAX_WAIT_SECONDS,
        deadline_seconds: float = DEFAULT_DEADLINE_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._retrying = tenacity.Retrying(
            retry=_RetryShortWaits(max_wait_seconds),
            wait=_WaitForVendor(
                tenacity.wait_random_exponential(multiplier=0.5, max=max_wait_seconds)
            ),
            stop=tenacity.stop_after_attempt(attempts)
            | tenacity.stop_after_delay(deadline_seconds),
            before_sleep=_log_retry,
            sleep=sleep,
            reraise=True,
        )

    def call(self, func: Callable[[], T]) -> T:
        """Call `func`, retrying transient failures; re-raise the last error when out of tries."""
        return self._retrying(func)


def event_backoff(attempts: int, retry_after: float | None = None) -> float:
    """Seconds before an event that failed `attempts` times may run again (full jitter)."""
    ceiling = min(EVENT_BACKOFF_CAP_SECONDS, EVENT_BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0))
    wait = random.uniform(0, ceiling)  # noqa: S311 - jitter, not security
    if retry_after is not None:
        wait = max(wait, retry_after)
    return wait
