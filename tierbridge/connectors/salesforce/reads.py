"""Read query results to the last page, and incremental reads with a compound cursor.

`read_all` follows `nextRecordsUrl` until `done` and raises if a URL comes back twice, since
following it again would loop. `read_changes` reads rows ordered by `SystemModstamp, Id` in
queries of at most `limit` rows. Each next query, and a query re-run after its locator
expired, starts after the (timestamp, Id) of the last row read. Many rows share a timestamp
(it has whole seconds), and a cursor on the timestamp alone would either re-read them
(`>=`, looping when more rows share it than a query returns) or skip the rest (`>`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, Protocol

from tierbridge.connectors.salesforce.ids import normalize_id
from tierbridge.connectors.salesforce.records import parse_timestamp
from tierbridge.connectors.salesforce.soql import Cursor, Select, datetime_literal
from tierbridge.core.errors import RetryableError

__all__ = ["Fail", "QueryClient", "read_all", "read_changes"]

#: Queries re-run after an expired locator before the read gives up.
_MAX_RESTARTS = 3

#: Builds the error a broken read raises, from the reason.
Fail = Callable[[str], RetryableError]


class QueryClient(Protocol):
    """The two calls a read needs (`SalesforceClient` provides them)."""

    def query(
        self, soql: str, *, operation: str, include_deleted: bool = False
    ) -> dict[str, Any]: ...

    def query_more(self, next_url: str, *, operation: str) -> dict[str, Any] | None: ...


def _pages(
    client: QueryClient, soql: str, operation: str, include_deleted: bool, fail: Fail
) -> Iterator[list[dict[str, Any]] | None]:
    """Yield each page's records; a final None means the query locator expired mid-read."""
    page: dict[str, Any] | None = client.query(
        soql, operation=operation, include_deleted=include_deleted
    )
    seen: set[str] = set()
    while page is not None:
        yield list(page.get("records") or [])
        if page.get("done", True):
            return
        next_url = page.get("nextRecordsUrl")
        if not next_url:
            raise fail("a page has done false and no nextRecordsUrl")
        if next_url in seen:
            raise fail(f"nextRecordsUrl {next_url} came back twice")
        seen.add(next_url)
        page = client.query_more(next_url, operation=operation)
    yield None


def read_all(
    client: QueryClient, select: Select, *, operation: str, fail: Fail
) -> Iterator[dict[str, Any]]:
    """Yield every row of a query, following `nextRecordsUrl` to the last page."""
    for records in _pages(client, select.text(), operation, False, fail):
        if records is None:
            raise fail("the query locator expired while paging")
        yield from records


class _Order:
    """Checks that rows arrive in (SystemModstamp, Id) order and none comes back twice.

    Ids are compared only for equality here, because the org orders them by its own rules.
    """

    def __init__(self, fail: Fail) -> None:
        self._fail = fail
        self._stamp: datetime | None = None
        self._ids_at_stamp: set[str] = set()

    def advance(self, row: dict[str, Any]) -> Cursor:
        stamp = parse_timestamp(str(row["SystemModstamp"]))
        record_id = normalize_id(str(row["Id"]))
        if self._stamp is not None and stamp < self._stamp:
            raise self._fail("rows came back out of SystemModstamp order")
        if stamp != self._stamp:
            self._stamp = stamp
            self._ids_at_stamp = set()
        if record_id in self._ids_at_stamp:
            raise self._fail(f"row {record_id} came back twice")
        self._ids_at_stamp.add(record_id)
        return Cursor(stamp, record_id)


def read_changes(
    client: QueryClient,
    select: Select,
    *,
    since: datetime | None,
    limit: int,
    operation: str,
    fail: Fail,
    include_deleted: bool = False,
) -> Iterator[dict[str, Any]]:
    """Yield every row with `SystemModstamp >= since` (floored to the second), oldest first."""
    order = _Order(fail)
    cursor: Cursor | None = None
    restarts = 0
    while True:
        if cursor is not None:
            terms = [cursor.condition()]
        elif since is not None:
            terms = [f"SystemModstamp >= {datetime_literal(since)}"]
        else:
            terms = []
        query = Select(
            select.fields, select.source, [*select.where, *terms], ["SystemModstamp", "Id"], limit
        )
        count = 0
        for records in _pages(client, query.text(), operation, include_deleted, fail):
            if records is None:
                restarts += 1
                if restarts > _MAX_RESTARTS:
                    raise fail(f"query locators expired {restarts} times during one read")
                break
            for row in records:
                cursor = order.advance(row)
                count += 1
                yield row
        else:
            if count < limit:
                return
