"""Translate Web API and `requests` failures into `tierbridge.core.errors` classes.

| cause                                             | raised                                  |
|---------------------------------------------------|-----------------------------------------|
| 429, or a service-protection error code           | ThrottledError, with the wait asked for |
| 401; 403 (privilege, missing application user)    | AuthenticationError                     |
| 404                                               | NotFoundError                           |
| 412 (the row changed since it was read)           | RejectedError, telling to re-read       |
| 400, 405, 409, 413, 501 and other 4xx             | RejectedError                           |
| 5xx, timeout, connection failure, non-JSON body   | RetryableError                          |
| TLS verification failure                          | PermanentError                          |

The error body is `{"error": {"code": "0x…", "message": "…"}}`; `code` is often empty, so
statuses decide, except for the service-protection codes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from email.utils import parsedate_to_datetime
from typing import Any

import requests

from tierbridge.core.errors import (
    AuthenticationError,
    ConnectorError,
    NotFoundError,
    PermanentError,
    RejectedError,
    RetryableError,
    ThrottledError,
)

__all__ = ["SERVICE_PROTECTION_CODES", "error_of", "retry_after_seconds", "translate_errors"]

#: Service-protection limits by Web API error code.
SERVICE_PROTECTION_CODES = {
    "0x80072322": "number of requests",
    "0x80072321": "combined execution time",
    "0x80072326": "concurrent requests",
}
_MAX_DETAIL_CHARS = 300


def retry_after_seconds(headers: Any, now: float | None = None) -> float | None:
    """Return the `Retry-After` wait in seconds (a number or an HTTP date), or None."""
    value = (headers.get("Retry-After") or "").strip()
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None
    return max(moment - (time.time() if now is None else now), 0.0)


def error_of(response: requests.Response) -> tuple[str, str]:
    """Return the body's error (code, message), shortened; empty strings if it has none."""
    try:
        error = response.json().get("error") or {}
    except (ValueError, AttributeError):
        return "", ""
    if not isinstance(error, dict):
        return "", ""
    code = str(error.get("code") or "").strip().lower()
    message = " ".join(str(error.get("message") or "").split())[:_MAX_DETAIL_CHARS]
    return code, message


def _from_response(response: requests.Response, where: dict[str, Any]) -> ConnectorError:
    status = response.status_code
    code, said = error_of(response)
    detail = f"{said} [{code}]" if code else said or "no detail"
    kwargs = {**where, "status": status}

    if status == 429 or code in SERVICE_PROTECTION_CODES:
        wait = retry_after_seconds(response.headers)
        limit = SERVICE_PROTECTION_CODES.get(code, "a service-protection limit")
        asked = f"{wait:g} s" if wait is not None else "an unknown time"
        msg = f"throttled on {limit} ({detail}); Dataverse asks to wait {asked}"
        return ThrottledError(msg, retry_after=wait, **kwargs)
    if status == 401:
        msg = "token rejected; check that the app registration is an application user of the environment"
        return AuthenticationError(msg, **kwargs)
    if status == 403:
        msg = f"access denied ({detail}); give the application user a security role with this privilege"
        return AuthenticationError(msg, **kwargs)
    if status == 404:
        return NotFoundError(f"not found ({detail}); check the id", **kwargs)
    if status == 412:
        msg = f"the row changed since it was read ({detail}); read it again and reapply the change"
        return RejectedError(msg, **kwargs)
    if status >= 500:
        return RetryableError(f"server error ({detail}); retry later", **kwargs)
    return RejectedError(
        f"request rejected ({detail}); check the columns and values sent", **kwargs
    )


@contextmanager
def translate_errors(connector: str, operation: str, record: str | None = None) -> Iterator[None]:
    """Re-raise failures inside the block as `core.errors` classes naming the record."""
    where: dict[str, Any] = {"connector": connector, "operation": operation, "record": record}
    try:
        yield
    except requests.exceptions.JSONDecodeError as exc:
        msg = "response is not JSON; check for a proxy or sign-in page in front of the organisation"
        raise RetryableError(msg, **where) from exc
    except requests.HTTPError as exc:
        if exc.response is None:
            raise RetryableError("HTTP error without a response; retry later", **where) from exc
        raise _from_response(exc.response, where) from exc
    except requests.exceptions.SSLError as exc:
        msg = "TLS verification failed; check base_url, and that ca_bundle contains the organisation's CA"
        raise PermanentError(msg, **where) from exc
    except requests.Timeout as exc:
        msg = "timed out; check the organisation's health or raise timeout_seconds"
        raise RetryableError(msg, **where) from exc
    except requests.ConnectionError as exc:
        raise RetryableError(
            "connection failed; check base_url and the network path", **where
        ) from exc
    except requests.RequestException as exc:
        raise RetryableError(
            f"request failed ({type(exc).__name__}); retry later", **where
        ) from exc
