"""Throttling and server errors: the vendor's wait is reported, and nothing is sent meanwhile."""

from __future__ import annotations

import pytest

from tierbridge.core.errors import RetryableError, ThrottledError
from tierbridge.testing import Target


def test_throttle_reports_wait(target: Target) -> None:
    """A throttling response raises ThrottledError with the wait the system requested."""
    seeded = target.seed("Scanner offline")
    connector = target.connector()
    target.throttle()

    with pytest.raises(ThrottledError) as raised:
        connector.get_record(seeded.id)

    assert raised.value.retry_after == target.facts.throttle_retry_after
    assert raised.value.connector == connector.name


def test_throttle_holds_next_call(target: Target) -> None:
    """While the wait runs, the next call raises ThrottledError without waiting in the call."""
    seeded = target.seed("Scanner offline")
    connector = target.connector()
    target.throttle()
    with pytest.raises(ThrottledError):
        connector.get_record(seeded.id)

    with pytest.raises(ThrottledError) as raised:
        connector.get_record(seeded.id)

    assert raised.value.retry_after is None or raised.value.retry_after > 0


@pytest.mark.parametrize("status", [500, 503])
def test_server_error_retryable(target: Target, status: int) -> None:
    """A 5xx response raises RetryableError (not a throttle) carrying the status."""
    seeded = target.seed("Scanner offline")
    connector = target.connector()
    target.fail_next(status)

    with pytest.raises(RetryableError) as raised:
        connector.get_record(seeded.id)

    assert not isinstance(raised.value, ThrottledError)
    assert raised.value.status == status
