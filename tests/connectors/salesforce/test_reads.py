from __future__ import annotations

from typing import Any

import pytest

from tierbridge.connectors.salesforce.reads import read_all, read_changes
from tierbridge.connectors.salesforce.soql import Select
from tierbridge.core.errors import RetryableError

SELECT = Select(["Id", "SystemModstamp"], "Case")


class ScriptedClient:
    """Returns scripted pages for queries and nextRecordsUrl requests."""

    def __init__(self, first: list[dict[str, Any]], more: dict[str, dict[str, Any] | None]):
        self.first = first
        self.more = more
        self.queries: list[str] = []

    def query(self, soql: str, *, operation: str, include_deleted: bool = False) -> dict[str, Any]:
        self.queries.append(soql)
        return self.first[len(self.queries) - 1]

    def query_more(self, next_url: str, *, operation: str) -> dict[str, Any] | None:
        return self.more[next_url]


def fail(reason: str) -> RetryableError:
    return RetryableError(reason, connector="sf", operation="test")


def row(stamp: str, suffix: str) -> dict[str, Any]:
    return {"Id": f"500Hs0000000{suffix}", "SystemModstamp": f"2024-05-01T07:15:{stamp}.000+0000"}


def page(rows: list[dict[str, Any]], next_url: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"totalSize": 9, "done": next_url is None, "records": rows}
    if next_url:
        body["nextRecordsUrl"] = next_url
    return body


def test_repeated_next_url() -> None:
    """A nextRecordsUrl seen before raises instead of looping."""
    client = ScriptedClient([page([row("01", "AAA")], "/q/1")], {"/q/1": page([], "/q/1")})

    with pytest.raises(RetryableError, match="came back twice"):
        list(read_all(client, SELECT, operation="test", fail=fail))


def test_not_done_without_url() -> None:
    """A page that is not done but has no nextRecordsUrl raises."""
    client = ScriptedClient([{"done": False, "records": []}], {})

    with pytest.raises(RetryableError, match="no nextRecordsUrl"):
        list(read_all(client, SELECT, operation="test", fail=fail))


def test_expired_locator_in_read_all() -> None:
    """read_all cannot resume a plain query, so an expired locator raises."""
    client = ScriptedClient([page([row("01", "AAA")], "/q/1")], {"/q/1": None})

    with pytest.raises(RetryableError, match="expired"):
        list(read_all(client, SELECT, operation="test", fail=fail))


def test_out_of_order_rows() -> None:
    """Rows whose SystemModstamp goes backwards raise."""
    client = ScriptedClient([page([row("05", "AAA"), row("01", "AAB")])], {})

    with pytest.raises(RetryableError, match="out of SystemModstamp order"):
        list(read_changes(client, SELECT, since=None, limit=10, operation="t", fail=fail))


def test_duplicate_row() -> None:
    """The same Id twice at one timestamp raises instead of being read twice."""
    client = ScriptedClient([page([row("01", "AAA")], "/q/1")], {"/q/1": page([row("01", "AAA")])})

    with pytest.raises(RetryableError, match="came back twice"):
        list(read_changes(client, SELECT, since=None, limit=10, operation="t", fail=fail))


def test_next_query_after_cursor() -> None:
    """A full query is followed by one that resumes after the last (stamp, Id) read."""
    client = ScriptedClient(
        [page([row("01", "AAA"), row("01", "AAB")]), page([row("01", "AAC")])], {}
    )

    rows = list(read_changes(client, SELECT, since=None, limit=2, operation="t", fail=fail))

    assert len(rows) == 3
    assert client.queries[0].endswith("ORDER BY SystemModstamp, Id LIMIT 2")
    assert "WHERE" not in client.queries[0]
    assert (
        "(SystemModstamp > 2024-05-01T07:15:01Z OR (SystemModstamp = 2024-05-01T07:15:01Z"
        in (client.queries[1])
    )
    assert "Id > '500Hs0000000AAB" in client.queries[1]
