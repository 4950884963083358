"""Paging: reads run to the last page whatever the count, and never loop on a repeated page."""

from __future__ import annotations

import pytest

from tierbridge.core.errors import RetryableError
from tierbridge.testing import Target


def read_ids(target: Target, count: int) -> tuple[list[str], list[str]]:
    """Seed `count` tickets, read changes from just before them with two rows a page."""
    start = target.now() - target.facts.cursor_precision
    seeded = [target.seed(f"Monitor {n} blank") for n in range(count)]
    connector = target.connector(page_size=2)
    read = [record.id for record in connector.changed_since(start)]
    return [item.id for item in seeded], read


@pytest.mark.parametrize("count", [1, 4, 5], ids=["one-row", "full-pages", "short-last-page"])
def test_pages_read_to_end(target: Target, count: int) -> None:
    """Every ticket is read exactly once, whether the last page is full, short or the only one."""
    seeded, read = read_ids(target, count)

    for ticket_id in seeded:
        assert read.count(ticket_id) == 1


def test_repeated_page_raises(target: Target) -> None:
    """A next-page link that repeats an earlier one raises RetryableError instead of looping."""
    start = target.now() - target.facts.cursor_precision
    for n in range(5):
        target.seed(f"Monitor {n} blank")
    connector = target.connector(page_size=2)
    target.repeat_next_page()

    with pytest.raises(RetryableError):
        list(connector.changed_since(start))
