"""Client-side rate limits per connector, the vendors' limit signals, and same-host checks.

A connector builds one `Limiter` from its `rate_limit` settings with its system's parser
(`servicenow_signal`, `jira_signal`, `salesforce_signal`, `dynamics_signal`) and routes
every HTTP request through it: `permit()` before sending, `observe()` on the response.
"""

from __future__ import annotations

from tierbridge.core.limits.hosts import ensure_same_host
from tierbridge.core.limits.limiter import Limiter
from tierbridge.core.limits.signals import CONNECTOR_SCOPE, Backoff, Signal, SignalParser, Usage
from tierbridge.core.limits.vendors import (
    dynamics_signal,
    jira_signal,
    parse_retry_after,
    salesforce_signal,
    servicenow_signal,
)

__all__ = [
    "CONNECTOR_SCOPE",
    "Backoff",
    "Limiter",
    "Signal",
    "SignalParser",
    "Usage",
    "dynamics_signal",
    "ensure_same_host",
    "jira_signal",
    "parse_retry_after",
    "salesforce_signal",
    "servicenow_signal",
]
