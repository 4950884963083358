from __future__ import annotations

from collections.abc import Mapping

import pytest

from tierbridge.emulators.servicenow.query import (
    Condition,
    matches,
    parse_query,
    sort_records,
)
from tierbridge.emulators.servicenow.schema import FieldType

TYPES = {
    "number": FieldType.STRING,
    "state": FieldType.CHOICE,
    "short_description": FieldType.STRING,
    "sys_updated_on": FieldType.DATETIME,
    "sys_id": FieldType.STRING,
    "assigned_to": FieldType.REFERENCE,
}
ROWS = [
    {"number": "INC1", "state": "2", "short_description": "VPN drops", "sys_id": "b",
     "sys_updated_on": "2024-05-01 09:00:00", "assigned_to": ""},
    {"number": "INC2", "state": "6", "short_description": "Printer jam", "sys_id": "a",
     "sys_updated_on": "2024-05-01 09:00:00", "assigned_to": "u1"},
    {"number": "INC3", "state": "10", "short_description": "vpn slow", "sys_id": "c",
     "sys_updated_on": "2024-05-02 08:00:00", "assigned_to": "u2"},
]  # fmt: skip


def resolve(record: Mapping[str, str], path: str) -> tuple[str, FieldType] | None:
    if path not in TYPES:
        return None
    return record.get(path, ""), TYPES[path]


def numbers(text: str) -> list[str]:
    query = parse_query(text, lambda name: name in TYPES)
    found = [row for row in ROWS if matches(query, row, resolve)]
    return [row["number"] for row in sort_records(found, query.order, resolve)]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("state=2", ["INC1"]),
        ("state!=2", ["INC2", "INC3"]),
        ("state>6", ["INC3"]),
        ("state>=6", ["INC2", "INC3"]),
        ("state<6", ["INC1"]),
        ("state<=6", ["INC1", "INC2"]),
        ("stateIN2,10", ["INC1", "INC3"]),
        ("stateNOT IN2,10", ["INC2"]),
        ("short_descriptionLIKEvpn", ["INC1", "INC3"]),
        ("short_descriptionNOT LIKEvpn", ["INC2"]),
        ("short_descriptionSTARTSWITHvpn", ["INC1", "INC3"]),
        ("short_descriptionENDSWITHjam", ["INC2"]),
        ("assigned_toISEMPTY", ["INC1"]),
        ("assigned_toISNOTEMPTY", ["INC2", "INC3"]),
    ],
)
def test_operators(query: str, expected: list[str]) -> None:
    """Each operator selects the rows it names, comparing choice numbers as numbers."""
    assert numbers(query) == expected


def test_and_binds_terms() -> None:
    """`^` requires both terms."""
    assert numbers("short_descriptionLIKEvpn^state=2") == ["INC1"]


def test_or_joins_previous_term() -> None:
    """`^OR` widens only the term before it."""
    assert numbers("state=6^ORstate=10^short_descriptionLIKEvpn") == ["INC3"]


def test_new_query_adds_rows() -> None:
    """`^NQ` unions two queries."""
    assert numbers("state=2^NQstate=10") == ["INC1", "INC3"]


def test_orderby_then_tiebreak() -> None:
    """ORDERBY sorts by the first field, then the next one."""
    assert numbers("ORDERBYsys_updated_on^ORDERBYsys_id") == ["INC2", "INC1", "INC3"]


def test_orderbydesc_reverses() -> None:
    """ORDERBYDESC sorts descending, numbers as numbers."""
    assert numbers("ORDERBYDESCstate") == ["INC3", "INC2", "INC1"]


def test_plain_date_literal() -> None:
    """A plain `YYYY-MM-DD HH:MM:SS` literal compares as a date-time."""
    assert numbers("sys_updated_on>=2024-05-01 09:00:01") == ["INC3"]


def test_date_generate_literal() -> None:
    """gs.dateGenerate(date, time) reads as the same UTC literal."""
    query = "sys_updated_on>=javascript:gs.dateGenerate('2024-05-01','09:00:00')"
    assert numbers(query) == ["INC1", "INC2", "INC3"]
    assert parse_query(query, lambda _: True).alternatives[0][0][0] == Condition(
        "sys_updated_on", ">=", "2024-05-01 09:00:00"
    )


def test_date_generate_start_end() -> None:
    """'start' and 'end' stand for the first and last second of the day."""
    assert numbers("sys_updated_on<=javascript:gs.dateGenerate('2024-05-01','end')") == [
        "INC1",
        "INC2",
    ]


def test_unknown_field_dropped() -> None:
    """A term on an unknown field is dropped and the rest of the query still runs."""
    assert numbers("stat=2") == ["INC1", "INC2", "INC3"]
    assert numbers("stat=2^state=6") == ["INC2"]


def test_unknown_orderby_dropped() -> None:
    """ORDERBY on an unknown field is ignored."""
    assert parse_query("ORDERBYnope^ORDERBYstate", lambda n: n in TYPES).order == (
        ("state", False),
    )


def test_malformed_term_dropped() -> None:
    """A term with no operator is dropped like an unknown field."""
    assert numbers("state^state=2") == ["INC1"]
