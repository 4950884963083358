"""Query results served in batches, with `nextRecordsUrl` locators that expire when idle.

The rows of a query are rendered once, when it runs; later batches of the same locator serve
that snapshot. A locator unused for 15 minutes, or one the test expired, returns 400
INVALID_QUERY_LOCATOR, and the caller must run its query again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tierbridge.emulators.salesforce.errors import api_error

__all__ = ["MAX_BATCH", "QueryCursors"]

MAX_BATCH = 2000
_IDLE_LIMIT = timedelta(minutes=15)


@dataclass
class _Cursor:
    rows: list[dict[str, Any]]
    batch: int
    resource: str
    last_used: datetime


class QueryCursors:
    """Open locators of one org; `min_batch` is the smallest batch size honoured (200 in orgs)."""

    def __init__(
        self, new_id: Callable[[], str], clock: Callable[[], datetime], min_batch: int = 200
    ) -> None:
        self._new_id = new_id
        self._clock = clock
        self.min_batch = min_batch
        self._cursors: dict[str, _Cursor] = {}
        self._lock = threading.Lock()

    def batch_size(self, header: str | None) -> int:
        """Read `batchSize=N` from Sforce-Query-Options, clamped to what the org honours."""
        for item in (header or "").split(";"):
            name, _, value = item.strip().partition("=")
            if name.strip() == "batchSize" and value.strip().isdigit():
                return max(self.min_batch, min(MAX_BATCH, int(value)))
        return MAX_BATCH

    def first_page(
        self, rows: list[dict[str, Any]], batch: int, version: str, resource: str
    ) -> dict[str, Any]:
        """Return the first batch, opening a locator if more rows follow."""
        if len(rows) <= batch:
            return {"totalSize": len(rows), "done": True, "records": rows}
        locator = self._new_id()
        cursor = _Cursor(rows, batch, resource, self._clock())
        with self._lock:
            self._cursors[locator] = cursor
        return self._page(locator, cursor, 0, version)

    def next_page(self, token: str, version: str, resource: str) -> dict[str, Any]:
        """Return the batch a `nextRecordsUrl` names; raise 400 for an unknown or idle locator."""
        locator, _, start = token.rpartition("-")
        now = self._clock()
        with self._lock:
            cursor = self._cursors.get(locator)
            if cursor is not None and now - cursor.last_used > _IDLE_LIMIT:
                del self._cursors[locator]
                cursor = None
        if cursor is None or cursor.resource != resource or not start.isdigit():
            raise api_error(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        return self._page(locator, cursor, int(start), version)

    def _page(self, locator: str, cursor: _Cursor, start: int, version: str) -> dict[str, Any]:
        cursor.last_used = self._clock()
        end = start + cursor.batch
        page: dict[str, Any] = {"totalSize": len(cursor.rows), "done": end >= len(cursor.rows)}
        if not page["done"]:
            page["nextRecordsUrl"] = f"/services/data/v{version}/{cursor.resource}/{locator}-{end}"
        page["records"] = cursor.rows[start:end]
        return page

    def expire_all(self) -> None:
        """Forget every open locator, as the org does after they sit idle."""
        with self._lock:
            self._cursors.clear()
