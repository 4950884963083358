"""Translate `jira` and `requests` exceptions into `tierbridge.core.errors` classes.

| cause                                                  | raised                          |
|--------------------------------------------------------|---------------------------------|
| 401, 403                                               | AuthenticationError             |
| 404                                                    | NotFoundError                   |
| 429                                                    | ThrottledError, with Retry-After |
| 408, 425, 5xx, timeout, connection or handshake failure | RetryableError                  |
| other 4xx                                              | RejectedError                   |
| a certificate that `ca_bundle` does not vouch for      | PermanentError                  |

Messages name the fields Jira complained about, never their values, which may hold ticket text.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import requests
from jira import JIRAError

from tierbridge.core.errors import (
    AuthenticationError,
    NotFoundError,
    PermanentError,
    RejectedError,
    RetryableError,
    ThrottledError,
)

__all__ = ["translate_errors"]

_RETRYABLE_CLIENT_STATUSES = frozenset({408, 425})


def _error_detail(response: requests.Response | None) -> str:
    """Name the fields Jira complained about; values may hold ticket text, so they are left out."""
    if response is None:
        return ""
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    errors = body.get("errors")
    keys = sorted(errors) if isinstance(errors, dict) else []
    messages = body.get("errorMessages")
    count = len(messages) if isinstance(messages, list) else int(bool(body.get("errorMessage")))
    parts = []
    if keys:
        parts.append(f"fields with errors: {', '.join(keys)}")
    if count:
        parts.append(f"{count} general error message{'s' if count != 1 else ''}")
    return "; ".join(parts)


def _retry_after(response: requests.Response | None) -> float | None:
    if response is None:
        return None
    try:
        return float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None


def _raise_for_status(
    status: int | None, response: requests.Response | None, where: dict[str, Any]
) -> NoReturn:
    """Raise the tierbridge error that matches a failed Jira response."""
    detail = _error_detail(response)
    if status is None:
        raise RetryableError("Jira sent no usable response", **where)
    if status == 401:
        msg = "Jira rejected the credentials; check auth.username and the API token"
        raise AuthenticationError(msg, status=status, **where)
    if status == 403:
        msg = "the integration account lacks permission for this call; check its project roles"
        raise AuthenticationError(msg, status=status, **where)
    if status == 404:
        raise NotFoundError(
            "not found, or not visible to the integration account", status=status, **where
        )
    if status == 429:
        retry_after = _retry_after(response)
        raise ThrottledError(
            f"rate limited; retry after {retry_after} s",
            retry_after=retry_after,
            status=status,
            **where,
        )
    if status >= 500 or status in _RETRYABLE_CLIENT_STATUSES:
        raise RetryableError(
            f"Jira returned a server error; {detail or 'no detail given'}", status=status, **where
        )
    raise RejectedError(
        f"Jira rejected the request; {detail or 'no detail given'}", status=status, **where
    )


def _certificate_rejected(exc: BaseException) -> bool:
    """Tell a rejected certificate (permanent until the config changes) from a broken handshake.

    requests nests the `ssl.SSLCertVerificationError` in urllib3 errors' `args` and `reason`.
    """
    pending: list[object] = [exc]
    seen: set[int] = set()
    while pending:
        item = pending.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, ssl.SSLCertVerificationError):
            return True
        if isinstance(item, BaseException):
            pending.extend([*item.args, item.__cause__, item.__context__])
            pending.append(getattr(item, "reason", None))
    return False


@contextmanager
def translate_errors(connector: str, operation: str, record: str | None = None) -> Iterator[None]:
    """Turn `jira` and `requests` exceptions raised inside into `core.errors` classes."""
    where: dict[str, Any] = {"connector": connector, "operation": operation, "record": record}
    try:
        yield
    except JIRAError as exc:
        _raise_for_status(exc.status_code, exc.response, where)
    except requests.HTTPError as exc:
        response = exc.response
        _raise_for_status(response.status_code if response is not None else None, response, where)
    except requests.Timeout as exc:
        raise RetryableError("request to Jira timed out; check timeout_seconds", **where) from exc
    except requests.exceptions.SSLError as exc:
        if _certificate_rejected(exc):
            msg = "TLS verification failed; check base_url, and that ca_bundle holds the site's CA"
            raise PermanentError(msg, **where) from exc
        raise RetryableError(
            "TLS handshake with Jira failed; check base_url and ca_bundle", **where
        ) from exc
    except requests.RequestException as exc:
        raise RetryableError(f"cannot reach Jira ({type(exc).__name__})", **where) from exc
