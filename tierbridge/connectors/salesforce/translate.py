"""Translate simple-salesforce and `requests` failures into `tierbridge.core.errors` classes.

Salesforce error bodies are arrays of `{"message", "errorCode", "fields"}`. Messages are not
copied into ours, because they may quote the rejected value. The error codes and field names
are enough to act on.

| cause                                             | raised                              |
|---------------------------------------------------|-------------------------------------|
| 403 REQUEST_LIMIT_EXCEEDED                        | ThrottledError, retry_after None    |
| 401 (INVALID_SESSION_ID after a refresh), 403     | AuthenticationError                 |
| 404                                               | NotFoundError                       |
| 300, 400, 412 and other 4xx                       | RejectedError naming codes, fields  |
| 5xx, timeout, connection failure, non-JSON body   | RetryableError                      |
| TLS verification failure                          | PermanentError                      |
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests
from simple_salesforce.exceptions import SalesforceError

from tierbridge.core.errors import (
    AuthenticationError,
    ConnectorError,
    NotFoundError,
    PermanentError,
    RejectedError,
    RetryableError,
    ThrottledError,
)

__all__ = ["LIMIT_EXCEEDED", "error_codes", "translate_errors"]

LIMIT_EXCEEDED = "REQUEST_LIMIT_EXCEEDED"


def _entries(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, dict):
        content = [content]
    if not isinstance(content, list):
        return []
    return [entry for entry in content if isinstance(entry, dict)]


def error_codes(content: Any) -> list[str]:
    """Return the `errorCode` values of an error body, in order."""
    return [str(entry.get("errorCode")) for entry in _entries(content) if entry.get("errorCode")]


def _detail(content: Any) -> str:
    """Summarise an error body as its codes and the fields they name."""
    entries = _entries(content)
    codes = sorted({str(entry.get("errorCode")) for entry in entries if entry.get("errorCode")})
    fields = sorted(
        {str(name) for entry in entries for name in (entry.get("fields") or []) if name}
    )
    if not codes:
        return "no error code in the response"
    text = f"error {', '.join(codes)}"
    return f"{text} on fields {', '.join(fields)}" if fields else text


def _from_salesforce(exc: SalesforceError, where: dict[str, Any]) -> ConnectorError:
    status = exc.status
    detail = _detail(exc.content)
    kwargs = {**where, "status": status}
    if LIMIT_EXCEEDED in error_codes(exc.content):
        msg = (
            "the org's API request allocation for the rolling 24 hours is exhausted, or too many "
            "long-running requests are in progress; calls fail until usage falls back under the "
            "limit, so pause polling or ask for a larger allocation"
        )
        return ThrottledError(msg, retry_after=None, **kwargs)
    if status == 401:
        msg = f"session rejected ({detail}); check the connected app and its run-as user"
        return AuthenticationError(msg, **kwargs)
    if status == 403:
        msg = f"access refused ({detail}); check the integration user's permission sets"
        return AuthenticationError(msg, **kwargs)
    if status == 404:
        return NotFoundError(f"not found ({detail}); check the id and sharing", **kwargs)
    if status >= 500:
        return RetryableError(f"server error ({detail}); retry later", **kwargs)
    msg = f"request rejected ({detail}); check the fields and values sent"
    return RejectedError(msg, **kwargs)


@contextmanager
def translate_errors(connector: str, operation: str, record: str | None = None) -> Iterator[None]:
    """Re-raise failures inside the block as `core.errors` classes naming the record."""
    where: dict[str, Any] = {"connector": connector, "operation": operation, "record": record}
    try:
        yield
    except SalesforceError as exc:
        raise _from_salesforce(exc, where) from exc
    except requests.exceptions.JSONDecodeError as exc:
        msg = "response is not JSON; check for a proxy or login page in front of the org"
        raise RetryableError(msg, **where) from exc
    except requests.exceptions.SSLError as exc:
        msg = "TLS verification failed; check base_url, and that ca_bundle holds the org's CA"
        raise PermanentError(msg, **where) from exc
    except requests.Timeout as exc:
        msg = "timed out; check the org's status or raise timeout_seconds"
        raise RetryableError(msg, **where) from exc
    except requests.ConnectionError as exc:
        raise RetryableError("connection failed; check base_url and the network", **where) from exc
    except requests.RequestException as exc:
        msg = f"request failed ({type(exc).__name__}); retry later"
        raise RetryableError(msg, **where) from exc
