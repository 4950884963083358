"""Helpers for the engine tests: what the engine wrote, and what it logged."""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import Any

from structlog.testing import capture_logs

from tierbridge.core.runtime import Runtime

_WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def writes_during(action: Callable[[], object]) -> list[MutableMapping[str, Any]]:
    """Run `action` and return the outbound calls that changed something in a system.

    Jira's search endpoint takes a POST but only reads, so it is left out.
    """
    with capture_logs() as logs:
        action()
    return [
        entry
        for entry in logs
        if entry.get("event") == "api_call"
        and entry.get("method") in _WRITE_METHODS
        and not str(entry.get("path", "")).endswith("/search/jql")
    ]


def actions(rt: Runtime, event_id: int | None = None) -> list[str]:
    """Return the sync log's actions, oldest first, of one event or of all events."""
    rows = rt.store.sync_log(limit=1000)
    chosen = [row for row in rows if event_id is None or row.event_id == event_id]
    return [row.action for row in sorted(chosen, key=lambda row: row.id)]
