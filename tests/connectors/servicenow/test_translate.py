from __future__ import annotations

import pytest

from tierbridge.connectors.servicenow.translate import retry_after_seconds

NOW = 1_714_547_742.0  # 2024-05-01 07:15:42 UTC


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "7"}, 7.0),
        ({"Retry-After": "0.5"}, 0.5),
        ({"Retry-After": "Wed, 01 May 2024 07:16:12 GMT"}, 30.0),
        ({"X-RateLimit-Reset": str(int(NOW) + 40)}, 40.0),
        ({"Retry-After": "3", "X-RateLimit-Reset": str(int(NOW) + 40)}, 3.0),
        ({"X-RateLimit-Reset": str(int(NOW) - 5)}, 0.0),
        ({"Retry-After": "soon"}, None),
        ({}, None),
    ],
)
def test_retry_after(headers: dict[str, str], expected: float | None) -> None:
    """Retry-After (seconds or HTTP date) wins; else X-RateLimit-Reset minus now; never negative."""
    assert retry_after_seconds(headers, now=NOW) == expected
