from __future__ import annotations

from typing import Any

import pytest
import requests
from simple_salesforce.exceptions import SalesforceError

from tierbridge.connectors.salesforce.translate import error_codes, translate_errors
from tierbridge.core.errors import (
    AuthenticationError,
    ConnectorError,
    NotFoundError,
    PermanentError,
    RejectedError,
    RetryableError,
    ThrottledError,
)

LIMIT = [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
PICKLIST = [
    {
        "message": "Priority: value 'Urgent' is not in the restricted picklist",
        "errorCode": "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
        "fields": ["Priority"],
    }
]


def raised(exc: Exception) -> ConnectorError:
    with pytest.raises(ConnectorError) as caught, translate_errors("sf", "read", "500x"):
        raise exc
    return caught.value


def vendor(status: int, content: Any) -> SalesforceError:
    return SalesforceError("https://x/services/data/v62.0/query/", status, "query", content)


@pytest.mark.parametrize(
    ("status", "content", "expected"),
    [
        (403, LIMIT, ThrottledError),
        (401, [{"errorCode": "INVALID_SESSION_ID", "message": "expired"}], AuthenticationError),
        (403, [{"errorCode": "INSUFFICIENT_ACCESS", "message": "no"}], AuthenticationError),
        (404, [{"errorCode": "NOT_FOUND", "message": "gone"}], NotFoundError),
        (400, PICKLIST, RejectedError),
        (300, [{"errorCode": "MULTIPLE_CHOICES"}], RejectedError),
        (412, [{"errorCode": "PRECONDITION_FAILED"}], RejectedError),
        (500, [{"errorCode": "UNKNOWN_EXCEPTION"}], RetryableError),
        (503, "Server busy", RetryableError),
    ],
)
def test_status_mapping(status: int, content: Any, expected: type[ConnectorError]) -> None:
    """Each status (and REQUEST_LIMIT_EXCEEDED) maps to its core error class."""
    error = raised(vendor(status, content))

    assert type(error) is expected
    assert error.status == status
    assert error.record == "500x"


def test_limit_exceeded_without_wait() -> None:
    """The quota error carries no Retry-After and reports the 24 h allocation as spent."""
    error = raised(vendor(403, LIMIT))

    assert isinstance(error, ThrottledError)
    assert error.retry_after is None
    assert "24 hours is exhausted" in str(error)


def test_rejection_names_codes_and_fields() -> None:
    """A 400 names the error code and the fields, never the message with the value."""
    message = str(raised(vendor(400, PICKLIST)))

    assert "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST" in message
    assert "Priority" in message
    assert "Urgent" not in message


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (requests.exceptions.SSLError("bad cert"), PermanentError),
        (requests.Timeout("slow"), RetryableError),
        (requests.ConnectionError("reset"), RetryableError),
        (requests.exceptions.JSONDecodeError("x", "doc", 0), RetryableError),
        (requests.exceptions.ChunkedEncodingError("cut"), RetryableError),
    ],
)
def test_transport_failures(exc: Exception, expected: type[ConnectorError]) -> None:
    """Network, TLS and decoding failures map to retryable or permanent errors."""
    assert type(raised(exc)) is expected


def test_error_codes_shapes() -> None:
    """Codes are read from arrays and single objects; other bodies give none."""
    assert error_codes(LIMIT) == ["REQUEST_LIMIT_EXCEEDED"]
    assert error_codes({"errorCode": "X"}) == ["X"]
    assert error_codes("text") == []
    assert error_codes([1, {"message": "no code"}]) == []
