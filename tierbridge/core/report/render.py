"""Render KPI rows as an aligned table, CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import asdict, fields
from datetime import datetime

from tierbridge.core.report.kpi import KpiRow

__all__ = ["COLUMNS", "render"]

#: Column names, in order; they are the field names of `KpiRow`.
COLUMNS = tuple(item.name for item in fields(KpiRow))
_EMPTY = "-"


def render(rows: Sequence[KpiRow], fmt: str, start: datetime, end: datetime) -> str:
    """Return the rows in format `fmt`: table, csv or json. Raises ValueError for another one."""
    if fmt == "table":
        return _table(rows, start, end)
    if fmt == "csv":
        return _csv(rows)
    if fmt == "json":
        return _json(rows, start, end)
    msg = f"unknown format {fmt!r}; use table, csv or json"
    raise ValueError(msg)


def _cell(value: object) -> str:
    if value is None:
        return _EMPTY
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _table(rows: Sequence[KpiRow], start: datetime, end: datetime) -> str:
    """Render one line per KPI and one column per client and tier, since 17 columns are too wide."""
    title = f"KPIs from {start.isoformat()} to {end.isoformat()}, durations in business hours"
    if not rows:
        return f"{title}\nno tickets in the store for this period and client\n"

    header = ["", *(f"{row.client} {row.tier}" for row in rows)]
    body = [[name, *(_cell(getattr(row, name)) for row in rows)] for name in COLUMNS[2:]]
    widths = [max(len(line[index]) for line in [header, *body]) for index in range(len(header))]
    lines = [title, ""]
    for line in [header, *body]:
        first = line[0].ljust(widths[0])
        rest = [cell.rjust(widths[index + 1]) for index, cell in enumerate(line[1:])]
        lines.append("  ".join([first, *rest]).rstrip())
    return "\n".join(lines) + "\n"


def _csv(rows: Sequence[KpiRow]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {name: "" if value is None else value for name, value in asdict(row).items()}
        )
    return buffer.getvalue()


def _json(rows: Sequence[KpiRow], start: datetime, end: datetime) -> str:
    document = {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "unit": "business hours",
        "rows": [asdict(row) for row in rows],
    }
    return json.dumps(document, indent=2) + "\n"
