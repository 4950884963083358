"""Rendering KPI rows as a table, CSV and JSON."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pytest

from tierbridge.core.report.kpi import KpiRow
from tierbridge.core.report.render import COLUMNS, render

START = datetime(2030, 1, 1, tzinfo=UTC)
END = datetime(2030, 2, 1, tzinfo=UTC)
ROWS = [
    KpiRow("snow", "L1", received=12, escalated_to_L2=4, acknowledge_mean_h=0.5, backlog=3),
    KpiRow("snow", "L2", received=4, response_sla_pct=75.0),
]


def test_table_one_column_per_tier() -> None:
    """The table has a column per client and tier and a line per KPI; no data shows '-'."""
    text = render(ROWS, "table", START, END)

    lines = text.splitlines()
    assert lines[0].startswith("KPIs from 2030-01-01T00:00:00+00:00 to 2030-02-01")
    assert lines[2].split() == ["snow", "L1", "snow", "L2"]
    received = next(line for line in lines if line.startswith("received"))
    assert received.split() == ["received", "12", "4"]
    sla = next(line for line in lines if line.startswith("response_sla_pct"))
    assert sla.split() == ["response_sla_pct", "-", "75"]


def test_table_without_rows() -> None:
    """An empty report states that there were no tickets."""
    assert "no tickets in the store" in render([], "table", START, END)


def test_csv_round_trip() -> None:
    """CSV has a header of every column and empty cells for no data."""
    reader = csv.DictReader(io.StringIO(render(ROWS, "csv", START, END)))

    rows = list(reader)
    assert tuple(reader.fieldnames or ()) == COLUMNS
    assert rows[0]["received"] == "12"
    assert rows[0]["response_sla_pct"] == ""
    assert rows[1]["response_sla_pct"] == "75.0"


def test_json_document() -> None:
    """JSON carries the period, the unit and one object per row."""
    document = json.loads(render(ROWS, "json", START, END))

    assert document["from"] == "2030-01-01T00:00:00+00:00"
    assert document["unit"] == "business hours"
    assert document["rows"][0]["escalated_to_L2"] == 4
    assert document["rows"][1]["acknowledge_mean_h"] is None


def test_unknown_format() -> None:
    """An unknown format raises ValueError naming the formats."""
    with pytest.raises(ValueError, match="table, csv or json"):
        render(ROWS, "xml", START, END)
