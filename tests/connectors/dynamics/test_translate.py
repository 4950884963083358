from __future__ import annotations

import json

import pytest
import requests

from tierbridge.connectors.dynamics.translate import retry_after_seconds, translate_errors
from tierbridge.core.errors import (
    AuthenticationError,
    ConnectorError,
    NotFoundError,
    PermanentError,
    RejectedError,
    RetryableError,
    ThrottledError,
)


def _http_error(
    status: int, code: str = "", message: str = "", **headers: str
) -> requests.HTTPError:
    response = requests.Response()
    response.status_code = status
    response._content = json.dumps({"error": {"code": code, "message": message}}).encode()
    response.headers.update(headers)
    return requests.HTTPError(f"HTTP {status}", response=response)


def _translated(exc: Exception) -> ConnectorError:
    with pytest.raises(ConnectorError) as caught, translate_errors("dyn", "read", "incidents"):
        raise exc
    return caught.value


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (400, "0x80040265", RejectedError),
        (401, "", AuthenticationError),
        (403, "0x80040220", AuthenticationError),
        (404, "0x80040217", NotFoundError),
        (405, "", RejectedError),
        (412, "", RejectedError),
        (413, "", RejectedError),
        (429, "0x80072322", ThrottledError),
        (500, "", RetryableError),
        (501, "", RetryableError),
        (503, "", RetryableError),
    ],
)
def test_status_classes(status: int, code: str, expected: type[ConnectorError]) -> None:
    """Each Web API status maps to the error class that decides the engine's next step."""
    error = _translated(_http_error(status, code, "text"))

    assert type(error) is expected
    assert error.status == status
    assert error.record == "incidents"


@pytest.mark.parametrize(
    ("code", "limit"),
    [
        ("0x80072322", "number of requests"),
        ("0x80072321", "combined execution time"),
        ("0x80072326", "concurrent requests"),
    ],
)
def test_service_protection_codes(code: str, limit: str) -> None:
    """Service-protection codes raise ThrottledError naming the limit, whatever the status."""
    error = _translated(_http_error(503, code, "limit hit", **{"Retry-After": "12"}))

    assert isinstance(error, ThrottledError)
    assert error.retry_after == 12.0
    assert limit in str(error)


def test_412_says_reread() -> None:
    """A 412 message says to read the row again."""
    assert "read it again" in str(_translated(_http_error(412)))


def test_message_and_code_kept() -> None:
    """The vendor's message and code appear in the error, shortened to one line."""
    error = _translated(
        _http_error(400, "0x80040265", "Priority is required\n for escalated cases.")
    )

    assert "Priority is required for escalated cases. [0x80040265]" in str(error)


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (requests.exceptions.SSLError("bad cert"), PermanentError),
        (requests.Timeout("slow"), RetryableError),
        (requests.ConnectionError("refused"), RetryableError),
        (requests.exceptions.JSONDecodeError("x", "doc", 0), RetryableError),
    ],
)
def test_transport_failures(exc: Exception, expected: type[ConnectorError]) -> None:
    """Transport failures are retryable, except a TLS verification failure."""
    assert type(_translated(exc)) is expected


def test_non_json_error_body() -> None:
    """An error response without a JSON body still maps by status."""
    response = requests.Response()
    response.status_code = 502
    response._content = b"<html>Bad gateway</html>"

    error = _translated(requests.HTTPError("HTTP 502", response=response))

    assert isinstance(error, RetryableError)
    assert "no detail" in str(error)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("7", 7.0), ("0.5", 0.5), ("", None), ("soon", None), ("Wed, 01 May 2024 07:15:52 GMT", 10.0)],
)
def test_retry_after(value: str, expected: float | None) -> None:
    """Retry-After is seconds or an HTTP date."""
    now = 1714547742.0

    assert retry_after_seconds({"Retry-After": value}, now=now) == expected
