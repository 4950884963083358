"""Offset paging over a list ordered by `sys_updated_on`, with checks that no row is lost.

Offset paging over a changing set can skip rows: when a row on an earlier page is updated it
moves to the end, and every later row shifts one place left. Each page after the first
therefore starts one row early, and that overlap row must be the previous page's last row.
If it is not, the set shifted under us and the read raises, so the caller keeps its watermark
and reads again. Rows added at the end, the usual case, shift nothing and pass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from tierbridge.connectors.servicenow.client import Page
from tierbridge.core.errors import RetryableError

__all__ = ["read_all_pages"]

#: Reads one page: (offset, limit) -> Page.
FetchPage = Callable[[int, int], Page]


def _identity(row: dict[str, str]) -> tuple[str, str]:
    return row.get("sys_id", ""), row.get("sys_mod_count", "")


def read_all_pages(
    fetch: FetchPage, page_size: int, fail: Callable[[str], RetryableError]
) -> Iterator[dict[str, str]]:
    """Yield every row of an ordered list, page by page, to the last page.

    Raises `fail(reason)` if the overlap row moved, the total shrank (rows were deleted or
    left the filter), or a row comes back with a version already yielded (a repeated page).
    Pages shorter than asked (ACLs are applied after the limit) are stepped over by offset.
    """
    seen: set[tuple[str, str]] = set()
    offset = 0
    last_row: dict[str, str] | None = None
    last_total: int | None = None

    while True:
        overlap = 1 if last_row is not None else 0
        page = fetch(offset - overlap, page_size + overlap)

        if last_total is not None and page.total < last_total:
            raise fail(f"the total fell from {last_total} to {page.total} while paging")
        last_total = page.total

        rows = page.rows
        if overlap and len(rows) > 0:
            if last_row is not None and _identity(rows[0]) != _identity(last_row):
                raise fail(f"rows shifted while paging at offset {offset}")
            rows = rows[1:]

        for row in rows:
            identity = _identity(row)
            if identity in seen:
                raise fail(f"row {identity[0]} came back twice at offset {offset}")
            seen.add(identity)
            yield row

        offset += page_size
        # A full page ends with the row the next page must start with; a short one does not.
        last_row = rows[-1] if len(rows) == page_size else None
        if offset >= page.total:
            return
