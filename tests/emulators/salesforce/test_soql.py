from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from tierbridge.emulators.salesforce.soql import parse_soql
from tierbridge.emulators.salesforce.soql_syntax import (
    Comparison,
    FieldPath,
    Junction,
    LikeMatch,
    Membership,
    Negation,
    SoqlError,
    SubQuery,
    Value,
)


def where(text: str) -> object:
    return parse_soql(f"SELECT Id FROM Case WHERE {text}").where  # noqa: S608 - test input


def test_select_list_and_clauses() -> None:
    """Fields, relationship paths, a subquery, ORDER BY and LIMIT are parsed."""
    query = parse_soql(
        "select Id, CreatedBy.Name, (SELECT Id FROM CaseComments LIMIT 1) "
        "from Case order by SystemModstamp desc nulls last, Id limit 5"
    )

    assert query.source == "Case"
    assert query.select[0] == FieldPath(("Id",))
    assert query.select[1] == FieldPath(("CreatedBy", "Name"))
    assert isinstance(query.select[2], SubQuery)
    assert query.select[2].query.source == "CaseComments"
    assert query.order[0].descending is True
    assert query.order[0].nulls_last is True
    assert query.order[1].descending is False
    assert query.limit == 5


def test_datetime_literal_forms() -> None:
    """`Z` and `+hh:mm` date-times parse to aware instants."""
    utc = where("SystemModstamp > 2024-05-01T09:00:00Z")
    offset = where("SystemModstamp > 2024-05-01T11:00:00+02:00")

    assert isinstance(utc, Comparison)
    assert isinstance(offset, Comparison)
    assert utc.value == Value("datetime", datetime(2024, 5, 1, 9, tzinfo=UTC))
    assert offset.value.value == datetime(2024, 5, 1, 11, tzinfo=timezone(timedelta(hours=2)))
    assert offset.value.value == utc.value.value


@pytest.mark.parametrize(
    ("literal", "reason"),
    [
        ("2024-05-01T09:00:00.000Z", "fractions"),
        ("2024-05-01T09:00:00", "no time zone"),
        ("2024-05-01T09:00:00 02:00", "unexpected"),
    ],
)
def test_datetime_literal_rejected(literal: str, reason: str) -> None:
    """Fractions, a missing zone and a `+` decoded to a space are MALFORMED_QUERY."""
    with pytest.raises(SoqlError) as caught:
        where(f"SystemModstamp > {literal}")

    assert caught.value.code == "MALFORMED_QUERY"
    assert reason in caught.value.message


def test_string_escapes() -> None:
    """Backslash escapes in strings are decoded; LIKE keeps wildcard escapes."""
    equal = where(r"Subject = 'it\'s a \\ path\n'")
    like = where(r"Subject LIKE '50\% off%'")

    assert isinstance(equal, Comparison)
    assert equal.value.value == "it's a \\ path\n"
    assert like == LikeMatch(FieldPath(("Subject",)), r"50\% off%")


def test_unknown_escape_rejected() -> None:
    """An escape SOQL does not define is MALFORMED_QUERY."""
    with pytest.raises(SoqlError, match="escape"):
        where(r"Subject = 'a\qb'")


def test_and_binds_tighter_than_or() -> None:
    """`a OR b AND c` groups as `a OR (b AND c)`; parentheses and NOT are kept."""
    condition = where("Status = 'New' OR Priority = 'High' AND NOT (IsClosed = true)")

    assert isinstance(condition, Junction)
    assert condition.operator == "OR"
    right = condition.parts[1]
    assert isinstance(right, Junction)
    assert right.operator == "AND"
    assert isinstance(right.parts[1], Negation)


def test_in_and_not_in() -> None:
    """IN and NOT IN take a list of literals."""
    included = where("Status IN ('New', 'Working')")
    excluded = where("Status NOT IN ('Closed')")

    assert included == Membership(
        FieldPath(("Status",)), (Value("string", "New"), Value("string", "Working")), False
    )
    assert isinstance(excluded, Membership)
    assert excluded.negated is True


@pytest.mark.parametrize(
    "text",
    [
        "SELECT FROM Case",
        "SELECT Id Case",
        "SELECT Id FROM Case WHERE",
        "SELECT Id FROM Case WHERE Status 'New'",
        "SELECT Id FROM Case LIMIT many",
        "SELECT Id FROM Case extra",
        "SELECT Id FROM Case WHERE Status = ;",
    ],
)
def test_malformed_queries(text: str) -> None:
    """Queries outside the grammar raise MALFORMED_QUERY."""
    with pytest.raises(SoqlError) as caught:
        parse_soql(text)

    assert caught.value.code == "MALFORMED_QUERY"


def test_not_equal_spellings() -> None:
    """`<>` is read as `!=`."""
    condition = where("Status <> 'New'")

    assert isinstance(condition, Comparison)
    assert condition.operator == "!="
