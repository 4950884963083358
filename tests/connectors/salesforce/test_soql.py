from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from tierbridge.connectors.salesforce.soql import (
    Cursor,
    Select,
    datetime_literal,
    id_literal,
    string_literal,
)
from tierbridge.emulators.salesforce.soql import parse_soql


def test_datetime_literal_utc_z() -> None:
    """Date-times become unquoted UTC with Z, floored to the second, never with a `+`."""
    moment = datetime(2024, 5, 1, 11, 0, 5, 999000, tzinfo=timezone(timedelta(hours=2)))

    assert datetime_literal(moment) == "2024-05-01T09:00:05Z"


def test_datetime_literal_needs_zone() -> None:
    """A naive datetime is refused rather than guessed."""
    with pytest.raises(ValueError, match="time zone"):
        datetime_literal(datetime(2024, 5, 1))


@pytest.mark.parametrize(
    ("text", "literal"),
    [
        ("plain", "'plain'"),
        ("it's", r"'it\'s'"),
        ("back\\slash", r"'back\\slash'"),
        ("two\nlines\ttab", r"'two\nlines\ttab'"),
        ("' OR Id != '", r"'\' OR Id != \''"),
    ],
)
def test_string_literal_escapes(text: str, literal: str) -> None:
    """Quotes, backslashes and control characters are escaped."""
    assert string_literal(text) == literal


def test_string_literal_round_trip() -> None:
    """An escaped value parses back to itself in SOQL and stays one literal."""
    value = "snow:it's \\ 'x' OR Id != 'y'\n"

    query = parse_soql(f"SELECT Id FROM Case WHERE External_Ref__c = {string_literal(value)}")  # noqa: S608 - escaped literal

    assert query.where is not None
    assert query.where.value.value == value  # type: ignore[union-attr]


def test_id_literal() -> None:
    """Ids are normalised to 18 characters and quoted; anything else raises."""
    assert id_literal("500Hs00001XyZaB") == "'500Hs00001XyZaBIAV'"
    with pytest.raises(ValueError, match="Salesforce id"):
        id_literal("x' OR '1")


def test_cursor_condition() -> None:
    """A cursor selects later stamps, or the same stamp with a greater Id."""
    cursor = Cursor(datetime(2024, 5, 1, 9, tzinfo=UTC), "500Hs00001XyZaBIAV")

    assert cursor.condition() == (
        "(SystemModstamp > 2024-05-01T09:00:00Z OR "
        "(SystemModstamp = 2024-05-01T09:00:00Z AND Id > '500Hs00001XyZaBIAV'))"
    )


def test_select_text() -> None:
    """A Select renders its clauses in SOQL order; with_terms adds AND terms."""
    select = Select(["Id", "Subject"], "Case", ["IsDeleted = false"], ["SystemModstamp", "Id"], 10)

    assert select.with_terms("Status = 'New'").text() == (
        "SELECT Id, Subject FROM Case WHERE IsDeleted = false AND Status = 'New' "
        "ORDER BY SystemModstamp, Id LIMIT 10"
    )
    assert Select(["Id"], "Case").text() == "SELECT Id FROM Case"
