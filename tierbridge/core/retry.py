"""The one retry policy for calls to ticketing systems.

Exponential backoff with full jitter, a cap per wait and a total deadline, retrying only
`RetryableError`. A `ThrottledError` waits at least as long as the vendor asked. Longer
outages are not waited out here: the engine puts the event back in the inbox with a later
`available_at` (see `event_backoff`), so one slow system never holds a worker.

Which failures are retryable is decided in one place per connector: its error translation
(`translate_errors`) maps each vendor failure to `RetryableError`, `ThrottledError`,
`PermanentError` or `NotFoundError`. This module only acts on those classes.

Expired tokens and sessions follow one rule, which each connector's client implements:

* A call rejected with 401 while it used a token or session that the connector obtained
  itself (an OAuth access token, a Salesforce session) drops that token.
* An idempotent request (`replay_allowed`: GET, HEAD, OPTIONS, PUT, DELETE) is then sent
  once more with a fresh token. A second 401 is final and becomes `AuthenticationError`.
* A POST or PATCH is not replayed at the HTTP level, since sending it twice may act twice
  (a PATCH that adds a journal entry, a POST that creates). It fails with `RetryableError`
  instead. The engine then retries it only where the whole operation is safe to repeat
  (field updates, which set values), or retries the event later, which re-reads the
  record and the outbox before writing.
* Static credentials (basic auth, a Jira API token) are never refreshed: a 401 means they
  are wrong, and replaying cannot help.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
import structlog
import tenacity
from requests.hooks import default_hooks

from tierbridge.core.errors import RetryableError, ThrottledError

__all__ = ["IDEMPOTENT_METHODS", "CallPolicy", "event_backoff", "replay_allowed", "replay_on_401"]

T = TypeVar("T")

_log = structlog.get_logger(__name__)

DEFAULT_ATTEMPTS = 3
DEFAULT_MAX_WAIT_SECONDS = 5.0
DEFAULT_DEADLINE_SECONDS = 30.0
EVENT_BACKOFF_BASE_SECONDS = 5.0
EVENT_BACKOFF_CAP_SECONDS = 900.0
#: HTTP methods whose effect is the same when a request is sent twice (RFC 9110, 9.2.2).
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


def replay_allowed(method: str | None) -> bool:
    """Tell whether a request rejected for an expired token may be sent once more."""
    return (method or "").upper() in IDEMPOTENT_METHODS


def replay_on_401(
    sign: Callable[[requests.PreparedRequest], requests.PreparedRequest],
    drop_token: Callable[[requests.Response], object],
    connector: str,
) -> Callable[..., requests.Response]:
    """Return a `requests` response hook that applies the expired-token rule above.

    `drop_token` forgets the rejected token, and `sign` puts a fresh one on a request (an
    auth object's `__call__`). Install the hook before any hook that raises on status. The
    replay goes through the same adapter, so it is logged and rate limited like any call.
    """

    def hook(response: requests.Response, *_args: Any, **kwargs: Any) -> requests.Response:
        request = response.request
        if response.status_code != 401 or request is None:
            return response
        drop_token(response)
        if not replay_allowed(request.method):
            operation = f"{request.method} {urlsplit(request.url or '').path}"
            msg = "the access token was rejected and dropped; a new one is fetched on retry"
            raise RetryableError(msg, connector=connector, operation=operation, status=401)

        _ = response.content
        response.close()
        retry = request.copy()
        retry.hooks = default_hooks()
        retry = sign(retry)
        replayed: requests.Response = response.connection.send(retry, **kwargs)
        replayed.history.append(response)
        replayed.request = retry
        return replayed

    return hook


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


def event_backoff(
    attempts: int,
    retry_after: float | None = None,
    *,
    base: float = EVENT_BACKOFF_BASE_SECONDS,
    cap: float = EVENT_BACKOFF_CAP_SECONDS,
) -> float:
    """Seconds before an event that failed `attempts` times may run again (full jitter).

    The wait is random between 0 and `base` * 2^(attempts-1), capped at `cap`.
    """
    ceiling = min(cap, base * 2 ** max(attempts - 1, 0))
    wait = random.uniform(0, ceiling)  # noqa: S311 - jitter, not security
    if retry_after is not None:
        wait = max(wait, retry_after)
    return wait
