"""The OData `$orderby` option, and the row order that keyset paging relies on."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from tierbridge.emulators.dynamics.envelope import NOT_FOUND_SEGMENT, odata_error
from tierbridge.emulators.dynamics.odata import column_for
from tierbridge.emulators.dynamics.schema import Table
from tierbridge.emulators.dynamics.values import Ref

__all__ = ["Order", "after", "parse_orderby", "sort_rows", "sort_value"]


@dataclass(frozen=True)
class Order:
    """One `$orderby` term: a column and its direction."""

    column: str
    descending: bool = False


def parse_orderby(table: Table, text: str | None) -> list[Order]:
    """Parse `$orderby`, then add the primary key as the last term so the order is total."""
    orders: list[Order] = []
    for part in (text or "").split(","):
        words = part.split()
        if not words:
            continue
        if len(words) > 2 or (len(words) == 2 and words[1].lower() not in ("asc", "desc")):
            raise odata_error(
                400, NOT_FOUND_SEGMENT, f"Syntax error in $orderby term '{part.strip()}'."
            )
        column_name, _ = column_for(table, words[0])
        orders.append(Order(column_name, len(words) == 2 and words[1].lower() == "desc"))
    if all(order.column != table.primary_id for order in orders):
        orders.append(Order(table.primary_id))
    return orders


def sort_value(value: Any) -> Any:
    """Return a JSON-ready value that sorts as the stored value does."""
    if isinstance(value, Ref):
        return value.id
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return value.casefold()
    if isinstance(value, bool):
        return int(value)
    return value


def _compare_keys(orders: Sequence[Order], left: Sequence[Any], right: Sequence[Any]) -> int:
    """Compare two sort keys; nulls sort first in ascending order, as SQL Server sorts them."""
    for order, a, b in zip(orders, left, right, strict=True):
        if a == b:
            continue
        smaller = a is None if a is None or b is None else a < b
        result = -1 if smaller else 1
        return -result if order.descending else result
    return 0


def sort_rows(
    rows: list[dict[str, Any]], orders: Sequence[Order]
) -> list[tuple[list[Any], dict[str, Any]]]:
    """Return (sort key, row) pairs in `$orderby` order."""
    keyed = [([sort_value(row.get(o.column)) for o in orders], row) for row in rows]

    def compare(
        left: tuple[list[Any], dict[str, Any]], right: tuple[list[Any], dict[str, Any]]
    ) -> int:
        return _compare_keys(orders, left[0], right[0])

    return sorted(keyed, key=functools.cmp_to_key(compare))


def after(orders: Sequence[Order], key: Sequence[Any], last: Sequence[Any]) -> bool:
    """Tell whether `key` sorts after `last`, the key of the previous page's last row."""
    return _compare_keys(orders, key, last) > 0
