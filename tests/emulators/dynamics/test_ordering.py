from __future__ import annotations

from typing import Any

from tierbridge.emulators.dynamics.ordering import parse_orderby, sort_rows
from tierbridge.emulators.dynamics.schema import TABLES

INCIDENT = TABLES["incident"]


def test_orderby_adds_primary_key() -> None:
    """$orderby gets the primary key as a last term, so the order is total."""
    orders = parse_orderby(INCIDENT, "modifiedon desc")

    assert [(o.column, o.descending) for o in orders] == [
        ("modifiedon", True),
        ("incidentid", False),
    ]


def test_sort_nulls_first() -> None:
    """Ascending order puts nulls first, as SQL Server does."""
    rows: list[dict[str, Any]] = [
        {"incidentid": "b", "title": "x"},
        {"incidentid": "a", "title": None},
    ]

    ordered = sort_rows(rows, parse_orderby(INCIDENT, "title asc"))

    assert [row["incidentid"] for _, row in ordered] == ["a", "b"]
