"""Translate `requests` and pysnc failures into `tierbridge.core.errors` classes.

| cause                                   | raised                                  |
|-----------------------------------------|-----------------------------------------|
| 401; 403 on a read or from an ACL        | AuthenticationError                     |
| 403 from a data policy or business rule | RejectedError                           |
| 400, 409, 422 and other 4xx             | RejectedError                           |
| 404                                     | NotFoundError                           |
| 429                                     | ThrottledError, with the wait asked for |
| 5xx, timeout, connection failure        | RetryableError                          |
| TLS verification failure                | PermanentError                          |
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from email.utils import parsedate_to_datetime
from typing import Any

import pysnc.exceptions
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

__all__ = ["retry_after_seconds", "translate_errors"]

_MAX_DETAIL_CHARS = 300
_ACL_MARKERS = ("acl", "not authorized", "security constraints", "insufficient rights")


def retry_after_seconds(headers: Any, now: float | None = None) -> float | None:
    """Return the wait a 429 requests, in seconds, or None if it gives none.

    `Retry-After` (seconds or an HTTP date) wins; otherwise `X-RateLimit-Reset` (Unix time)
    minus `now`.
    """
    now = time.time() if now is None else now
    retry_after = (headers.get("Retry-After") or "").strip()
    if retry_after:
        try:
            return max(float(retry_after), 0.0)
        except ValueError:
            try:
                return max(parsedate_to_datetime(retry_after).timestamp() - now, 0.0)
            except (TypeError, ValueError):
                pass
    reset = (headers.get("X-RateLimit-Reset") or "").strip()
    try:
        return max(float(reset) - now, 0.0) if reset else None
    except ValueError:
        return None


def _instance_message(response: requests.Response) -> str:
    """Return the instance's `error.message: error.detail`, shortened; "" if the body has none."""
    try:
        error = response.json().get("error") or {}
    except (ValueError, AttributeError):
        return ""
    if not isinstance(error, dict):
        return ""
    parts = [str(error.get(key) or "").strip() for key in ("message", "detail")]
    text = ": ".join(part for part in parts if part)
    return " ".join(text.split())[:_MAX_DETAIL_CHARS]


def _from_response(
    response: requests.Response, where: dict[str, Any], table: str
) -> ConnectorError:
    status = response.status_code
    said = _instance_message(response)
    method = (response.request.method or "") if response.request is not None else ""
    kwargs = {**where, "status": status}

    if status == 401:
        msg = "credentials rejected; check the user name and secret, and that the account is active"
        return AuthenticationError(msg, **kwargs)
    if status == 403 and (method == "GET" or any(m in said.lower() for m in _ACL_MARKERS)):
        msg = f"access denied ({said or 'no detail'}); grant the integration user access to {table}"
        return AuthenticationError(msg, **kwargs)
    if status == 404:
        msg = "record not found or hidden by an ACL; check the sys_id and the user's read access"
        return NotFoundError(msg, **kwargs)
    if status == 429:
        wait = retry_after_seconds(response.headers)
        asked = f"{wait:g} s" if wait is not None else "an unknown time"
        msg = f"rate limit exceeded ({said or 'no detail'}); the instance asks to wait {asked}"
        return ThrottledError(msg, retry_after=wait, **kwargs)
    if status == 403:
        msg = f"rejected by a data policy or business rule ({said or 'no detail'}); fix the values"
        return RejectedError(msg, **kwargs)
    if status >= 500:
        msg = f"instance error ({said or 'no detail'}); retry later"
        return RetryableError(msg, **kwargs)
    msg = f"request rejected ({said or 'no detail'}); check the fields and values sent"
    return RejectedError(msg, **kwargs)


@contextmanager
def translate_errors(
    connector: str, operation: str, *, table: str, sys_id: str | None = None
) -> Iterator[None]:
    """Re-raise failures inside the block as `core.errors` classes naming table and sys_id."""
    where: dict[str, Any] = {
        "connector": connector,
        "operation": operation,
        "record": f"{table}/{sys_id}" if sys_id else table,
    }
    try:
        yield
    except requests.exceptions.JSONDecodeError as exc:
        raise RetryableError(
            "response is not JSON; check for a proxy or login page in front of the instance",
            **where,
        ) from exc
    except requests.HTTPError as exc:
        if exc.response is None:
            raise RetryableError("HTTP error without a response; retry later", **where) from exc
        raise _from_response(exc.response, where, table) from exc
    except requests.exceptions.SSLError as exc:
        msg = "TLS verification failed; check base_url, and that ca_bundle holds the instance's CA"
        raise PermanentError(msg, **where) from exc
    except requests.Timeout as exc:
        raise RetryableError(
            "timed out; check the instance's health or raise timeout_seconds", **where
        ) from exc
    except requests.ConnectionError as exc:
        raise RetryableError(
            "connection failed; check base_url and the network path", **where
        ) from exc
    except requests.RequestException as exc:
        raise RetryableError(
            f"request failed ({type(exc).__name__}); retry later", **where
        ) from exc
    except (pysnc.exceptions.InstanceException, pysnc.exceptions.RequestException) as exc:
        raise RetryableError(f"pysnc failed ({type(exc).__name__}); retry later", **where) from exc
