"""Limit signals read from vendor responses, and the parser type that reads them.

A scope is `CONNECTOR_SCOPE` (every call of the connector) or a narrower name that a
connector chooses, such as `issue:10001` for Jira's per-issue write limit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

__all__ = ["CONNECTOR_SCOPE", "Backoff", "Signal", "SignalParser", "Usage"]

CONNECTOR_SCOPE = "connector"


@dataclass(frozen=True)
class Backoff:
    """A wait the system asked for: no request enters `scope` for `seconds`.

    `seconds=None` means the system gave no time, as Salesforce does when the daily
    allocation is spent; the limiter then waits its allocation recheck interval.
    """

    seconds: float | None
    reason: str
    scope: str = CONNECTOR_SCOPE


@dataclass(frozen=True)
class Usage:
    """API calls used and allowed in the system's allocation window (Salesforce: 24 h)."""

    used: int
    limit: int


@dataclass(frozen=True)
class Signal:
    """The limit facts of one response: a backoff, the allocation usage, or neither."""

    backoff: Backoff | None = None
    usage: Usage | None = None


class SignalParser(Protocol):
    """Read one response's status, headers and (for statuses >= 400) body into a `Signal`.

    `scope` is the scope the request was sent in, and `now` is the Unix time, for headers
    that give an absolute reset time.
    """

    def __call__(
        self, status: int, headers: Mapping[str, str], body: bytes, scope: str, now: float
    ) -> Signal: ...
