from __future__ import annotations

from collections.abc import Callable

import pytest

from tierbridge.connectors.servicenow.client import Page
from tierbridge.connectors.servicenow.paging import read_all_pages
from tierbridge.core.errors import RetryableError


def rows(*ids: str) -> list[dict[str, str]]:
    return [{"sys_id": sys_id, "sys_mod_count": "0"} for sys_id in ids]


def fail(reason: str) -> RetryableError:
    return RetryableError(reason, connector="snow", operation="changed_since")


class FakeList:
    """Serves pages of a list that tests may change between calls."""

    def __init__(self, ids: list[str]) -> None:
        self.ids = ids
        self.calls: list[tuple[int, int]] = []
        self.before_call: Callable[[int], None] = lambda _: None

    def fetch(self, offset: int, limit: int) -> Page:
        self.before_call(len(self.calls))
        self.calls.append((offset, limit))
        return Page(rows(*self.ids[offset : offset + limit]), len(self.ids))


def read(source: FakeList, page_size: int = 2) -> list[str]:
    return [row["sys_id"] for row in read_all_pages(source.fetch, page_size, fail)]


def test_reads_every_page() -> None:
    """All rows come back once, with each later page starting one row early."""
    source = FakeList(["a", "b", "c", "d", "e"])

    assert read(source) == ["a", "b", "c", "d", "e"]
    assert source.calls == [(0, 2), (1, 3), (3, 3)]


def test_empty_list() -> None:
    """An empty list takes one call."""
    source = FakeList([])

    assert read(source) == []
    assert source.calls == [(0, 2)]


def test_exact_multiple() -> None:
    """A list that fills its last page ends without an extra call."""
    source = FakeList(["a", "b", "c", "d"])

    assert read(source) == ["a", "b", "c", "d"]
    assert len(source.calls) == 2


def test_shift_detected() -> None:
    """A row read earlier moving to the end shifts later rows; the read raises."""
    source = FakeList(["a", "b", "c", "d", "e"])

    def move_a(call: int) -> None:
        if call == 1:
            source.ids = ["b", "c", "d", "e", "a"]

    source.before_call = move_a

    with pytest.raises(RetryableError, match="shifted"):
        read(source)


def test_total_drop_detected() -> None:
    """Rows leaving the set make the read raise."""
    source = FakeList(["a", "b", "c", "d", "e"])

    def drop_e(call: int) -> None:
        if call == 1:
            source.ids = ["a", "b", "c", "d"]

    source.before_call = drop_e

    with pytest.raises(RetryableError, match="total fell"):
        read(source)


def test_growth_allowed() -> None:
    """Rows appended during the read are read too."""
    source = FakeList(["a", "b", "c"])

    def append(call: int) -> None:
        if call == 1:
            source.ids = [*source.ids, "d"]

    source.before_call = append

    assert read(source) == ["a", "b", "c", "d"]


def test_ignored_offset_detected() -> None:
    """A server that ignores the offset repeats a page; the read raises."""
    data = rows("a", "b")

    def same_page(offset: int, limit: int) -> Page:
        return Page(data, 6)

    with pytest.raises(RetryableError):
        list(read_all_pages(same_page, 2, fail))


def test_short_pages_stepped() -> None:
    """Pages cut short by ACLs are stepped over by offset, without the overlap check."""
    pages = {0: Page(rows("a"), 5), 2: Page(rows("c", "d"), 5), 3: Page(rows("d", "e"), 5)}
    calls: list[tuple[int, int]] = []

    def fetch(offset: int, limit: int) -> Page:
        calls.append((offset, limit))
        return pages[offset]

    got = [row["sys_id"] for row in read_all_pages(fetch, 2, fail)]

    assert got == ["a", "c", "d", "e"]
    assert calls == [(0, 2), (2, 2), (3, 3)]
