"""Read each vendor's limit signals into a `Signal`: one `SignalParser` per system.

| system     | throttled response                      | wait from                               |
|------------|-----------------------------------------|-----------------------------------------|
| ServiceNow | 429                                     | `Retry-After`, else `X-RateLimit-Reset` (Unix time) |
| Jira Cloud | 429, `RateLimit-Reason` names the limit | `Retry-After`, else `X-RateLimit-Reset` (ISO 8601) |
| Salesforce | 403 `REQUEST_LIMIT_EXCEEDED`            | none given: wait until the allocation recovers |
| Dynamics   | 429                                     | `Retry-After` (seconds)                 |

Salesforce also reports its daily allocation on every response (`Sforce-Limit-Info:
api-usage=used/limit`), which the limiter uses to pace calls under a ceiling.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from email.utils import parsedate_to_datetime

from tierbridge.core.limits.signals import CONNECTOR_SCOPE, Backoff, Signal, Usage

__all__ = [
    "FALLBACK_THROTTLE_SECONDS",
    "dynamics_signal",
    "jira_signal",
    "parse_retry_after",
    "salesforce_signal",
    "servicenow_signal",
]

#: Wait after a 429 that names no wait at all. A guess: long enough not to resend within
#: the same second, short enough that the retry policy's own backoff dominates.
FALLBACK_THROTTLE_SECONDS = 1.0
#: Jira limits that cover only the issue written to, so other issues may go on.
_JIRA_ISSUE_REASONS = frozenset({"jira-per-issue-on-write"})
_SFORCE_USAGE = re.compile(r"api-usage=(\d+)/(\d+)")


def _header(headers: Mapping[str, str], name: str) -> str:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value.strip()
    return ""


def parse_retry_after(value: str, now: float) -> float | None:
    """Return the seconds a `Retry-After` value asks for (seconds or an HTTP date), never negative."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        return max(parsedate_to_datetime(value).timestamp() - now, 0.0)
    except (TypeError, ValueError):
        return None


def _unix_reset(value: str, now: float) -> float | None:
    try:
        return max(float(value) - now, 0.0) if value else None
    except ValueError:
        return None


def _iso_reset(value: str, now: float) -> float | None:
    """Read Jira's `X-RateLimit-Reset`, an ISO 8601 time such as `2024-05-01T07:16Z`."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return max(moment.timestamp() - now, 0.0)


def servicenow_signal(
    status: int, headers: Mapping[str, str], body: bytes, scope: str, now: float
) -> Signal:
    """A 429 blocks the whole connector: ServiceNow's rate-limit rules count per user."""
    if status != 429:
        return Signal()
    wait = parse_retry_after(_header(headers, "Retry-After"), now)
    if wait is None:
        wait = _unix_reset(_header(headers, "X-RateLimit-Reset"), now)
    rule = _header(headers, "X-RateLimit-Rule") or "no rule named"
    seconds = FALLBACK_THROTTLE_SECONDS if wait is None else wait
    return Signal(backoff=Backoff(seconds, f"ServiceNow rate limit rule ({rule})"))


def jira_signal(
    status: int, headers: Mapping[str, str], body: bytes, scope: str, now: float
) -> Signal:
    """A 429 for the per-issue write limit blocks that issue's scope; any other blocks all.

    The burst limit is per endpoint and method, but blocking the whole connector is the
    safe side: a request sent early fails again and can lengthen the wait.
    """
    if status != 429:
        return Signal()
    reason = _header(headers, "RateLimit-Reason") or "unnamed"
    wait = parse_retry_after(_header(headers, "Retry-After"), now)
    if wait is None:
        wait = _iso_reset(_header(headers, "X-RateLimit-Reset"), now)
    seconds = FALLBACK_THROTTLE_SECONDS if wait is None else wait
    blocked = scope if reason in _JIRA_ISSUE_REASONS else CONNECTOR_SCOPE
    return Signal(backoff=Backoff(seconds, f"Jira rate limit {reason}", blocked))


def _salesforce_error_codes(body: bytes) -> set[str]:
    """Return the `errorCode`s of a Salesforce REST error body (a JSON list of errors)."""
    try:
        errors = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return set()
    if isinstance(errors, dict):
        errors = [errors]
    if not isinstance(errors, list):
        return set()
    return {str(item.get("errorCode")) for item in errors if isinstance(item, dict)}


def salesforce_signal(
    status: int, headers: Mapping[str, str], body: bytes, scope: str, now: float
) -> Signal:
    """Report the allocation usage of every response; defer the connector on an exhausted one.

    Salesforce sends no wait with `REQUEST_LIMIT_EXCEEDED`: the allocation is a rolling 24 h
    window, so the backoff has no time and the limiter rechecks after its interval.
    """
    usage = None
    found = _SFORCE_USAGE.search(_header(headers, "Sforce-Limit-Info"))
    if found:
        usage = Usage(int(found.group(1)), int(found.group(2)))
    backoff = None
    if status == 403 and "REQUEST_LIMIT_EXCEEDED" in _salesforce_error_codes(body):
        backoff = Backoff(None, "Salesforce REQUEST_LIMIT_EXCEEDED")
    return Signal(backoff=backoff, usage=usage)


def dynamics_signal(
    status: int, headers: Mapping[str, str], body: bytes, scope: str, now: float
) -> Signal:
    """A 429 (a Dataverse service protection limit) blocks the connector for `Retry-After`."""
    if status != 429:
        return Signal()
    wait = parse_retry_after(_header(headers, "Retry-After"), now)
    seconds = FALLBACK_THROTTLE_SECONDS if wait is None else wait
    return Signal(backoff=Backoff(seconds, "Dataverse service protection limit"))
