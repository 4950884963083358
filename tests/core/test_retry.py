"""Tests for `CallPolicy` and `event_backoff`, with an injected sleep."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from tierbridge.core.errors import (
    NotFoundError,
    PermanentError,
    RejectedError,
    RetryableError,
    ThrottledError,
)
from tierbridge.core.retry import (
    DEFAULT_ATTEMPTS,
    EVENT_BACKOFF_BASE_SECONDS,
    EVENT_BACKOFF_CAP_SECONDS,
    CallPolicy,
    event_backoff,
)


class Flaky:
    """A call that raises the given errors in turn, then returns "ok", and counts its calls."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def transient() -> RetryableError:
    return RetryableError("HTTP 503", connector="snow", operation="get_record", status=503)


def throttled(seconds: float | None) -> ThrottledError:
    return ThrottledError("HTTP 429", retry_after=seconds, connector="jsm", operation="search")


def recorder() -> tuple[list[float], Callable[[float], None]]:
    sleeps: list[float] = []
    return sleeps, sleeps.append


class TestCallPolicy:
    def test_retries_then_succeeds(self) -> None:
        """Two transient failures are retried and the third call's result is returned."""
        sleeps, sleep = recorder()
        call = Flaky(transient(), transient())

        result = CallPolicy(sleep=sleep).call(call)

        assert result == "ok"
        assert call.calls == 3
        assert len(sleeps) == 2

    def test_gives_up_at_limit(self) -> None:
        """A call that keeps failing is tried `attempts` times and the last error re-raised."""
        sleeps, sleep = recorder()
        errors = [transient() for _ in range(10)]
        call = Flaky(*errors)

        with pytest.raises(RetryableError) as raised:
            CallPolicy(attempts=4, sleep=sleep).call(call)

        assert call.calls == 4
        assert raised.value is errors[3]
        assert len(sleeps) == 3

    def test_default_attempts(self) -> None:
        """Without arguments the policy tries DEFAULT_ATTEMPTS times."""
        _, sleep = recorder()
        call = Flaky(*(transient() for _ in range(10)))

        with pytest.raises(RetryableError):
            CallPolicy(sleep=sleep).call(call)

        assert call.calls == DEFAULT_ATTEMPTS

    def test_honours_retry_after(self) -> None:
        """A 429 with Retry-After waits at least that long before the next try."""
        sleeps, sleep = recorder()
        call = Flaky(throttled(4.0))

        CallPolicy(max_wait_seconds=5, sleep=sleep).call(call)

        assert call.calls == 2
        assert sleeps[0] >= 4.0

    def test_waits_capped_by_max_wait(self) -> None:
        """Backoff waits without Retry-After stay at or under max_wait_seconds."""
        sleeps, sleep = recorder()
        call = Flaky(*(transient() for _ in range(7)))

        CallPolicy(attempts=8, max_wait_seconds=0.5, sleep=sleep).call(call)

        assert len(sleeps) == 7
        assert all(0 <= wait <= 0.5 for wait in sleeps)

    @pytest.mark.parametrize(
        "error",
        [
            PermanentError("HTTP 403", connector="snow", operation="update_record"),
            RejectedError("HTTP 400", connector="snow", operation="update_record"),
            NotFoundError("HTTP 404", connector="snow", operation="get_record"),
            ValueError("a bug"),
        ],
        ids=["permanent", "rejected", "not-found", "bug"],
    )
    def test_no_retry_non_transient(self, error: Exception) -> None:
        """Errors other than RetryableError are raised after one call, without a sleep."""
        sleeps, sleep = recorder()
        call = Flaky(error)

        with pytest.raises(type(error)):
            CallPolicy(sleep=sleep).call(call)

        assert call.calls == 1
        assert sleeps == []

    def test_long_retry_after_not_waited(self) -> None:
        """A 429 asking for more than max_wait is raised at once, for the inbox to delay."""
        sleeps, sleep = recorder()
        call = Flaky(throttled(60.0))

        with pytest.raises(ThrottledError) as raised:
            CallPolicy(max_wait_seconds=5, sleep=sleep).call(call)

        assert call.calls == 1
        assert sleeps == []
        assert raised.value.retry_after == 60.0

    def test_throttle_without_retry_after(self) -> None:
        """A 429 without Retry-After is retried with the normal backoff."""
        sleeps, sleep = recorder()
        call = Flaky(throttled(None))

        assert CallPolicy(sleep=sleep).call(call) == "ok"
        assert call.calls == 2
        assert len(sleeps) == 1


class TestEventBackoff:
    @pytest.fixture
    def upper_bound(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Make the jitter return its upper bound, so the ceiling itself is observed."""
        monkeypatch.setattr(random, "uniform", lambda _low, high: high)

    @pytest.mark.usefixtures("upper_bound")
    def test_ceiling_doubles(self) -> None:
        """The wait ceiling doubles with each attempt, starting at the base."""
        ceilings = [event_backoff(attempt) for attempt in range(1, 6)]

        base = EVENT_BACKOFF_BASE_SECONDS
        assert ceilings == [base, base * 2, base * 4, base * 8, base * 16]

    @pytest.mark.usefixtures("upper_bound")
    def test_ceiling_capped(self) -> None:
        """From some attempt on, the wait stays at the cap."""
        waits = [event_backoff(attempt) for attempt in (10, 20, 60)]

        assert waits == [EVENT_BACKOFF_CAP_SECONDS] * 3

    def test_jitter_within_ceiling(self) -> None:
        """Every wait lies between zero and the attempt's ceiling."""
        rng_state = random.getstate()
        random.seed(7)
        try:
            waits = [event_backoff(3) for _ in range(200)]
        finally:
            random.setstate(rng_state)

        assert all(0 <= wait <= EVENT_BACKOFF_BASE_SECONDS * 4 for wait in waits)
        assert len(set(waits)) > 100

    def test_retry_after_is_floor(self) -> None:
        """A vendor's Retry-After is the least wait, whatever the jitter draws."""
        assert all(event_backoff(1, retry_after=120.0) >= 120.0 for _ in range(50))

    def test_attempt_zero_is_base(self) -> None:
        """Attempt 0 (never claimed) uses the base ceiling rather than a fraction of it."""
        assert 0 <= event_backoff(0) <= EVENT_BACKOFF_BASE_SECONDS
