"""Encoded queries (`sysparm_query`): parse them, match records and sort them.

Grammar handled: terms joined by `^` are AND-ed. A term starting `OR` (`^OR`) joins the term
before it. `^NQ` starts a new query whose rows are added to the result. `ORDERBY<field>` and
`ORDERBYDESC<field>` sort. A term naming a field that the table does not have is dropped and
the rest still runs, as on instances where `glide.invalid_query.returns_no_rows` is false.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from tierbridge.emulators.servicenow.schema import FieldType

__all__ = ["Condition", "EncodedQuery", "matches", "parse_query", "sort_records"]

#: Looks up a (possibly dot-walked) field of a record: its value and type, or None if the
#: field does not exist.
Resolver = Callable[[Mapping[str, str], str], tuple[str, FieldType] | None]

_OPERATORS = (
    "ISNOTEMPTY",
    "ISEMPTY",
    "NOT LIKE",
    "NOT IN",
    "STARTSWITH",
    "ENDSWITH",
    "LIKE",
    "IN",
    "!=",
    ">=",
    "<=",
    "=",
    ">",
    "<",
)
# Field names are lower case, so the first upper-case letter or symbol starts the operator.
_TERM = re.compile(
    r"^([a-z0-9_.]+?)(" + "|".join(re.escape(op) for op in _OPERATORS) + r")(.*)$", re.S
)
_DATE_GENERATE = re.compile(
    r"^javascript:gs\.dateGenerate\('(\d{4}-\d{2}-\d{2})',\s*'(start|end|\d{2}:\d{2}:\d{2})'\)$"
)
_DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"


@dataclass(frozen=True)
class Condition:
    """One term: `field`, operator and the literal value as written (dates normalised)."""

    field: str
    operator: str
    value: str


@dataclass(frozen=True)
class EncodedQuery:
    """A parsed query: `^NQ` alternatives of AND-ed terms, each term a tuple of OR-ed conditions."""

    alternatives: tuple[tuple[tuple[Condition, ...], ...], ...]
    order: tuple[tuple[str, bool], ...]


def _normalise_value(value: str) -> str:
    """Turn `javascript:gs.dateGenerate('2024-05-01','09:00:00')` into a plain UTC literal."""
    found = _DATE_GENERATE.match(value.strip())
    if found is None:
        return value
    date, time = found.groups()
    time = {"start": "00:00:00", "end": "23:59:59"}.get(time, time)
    return f"{date} {time}"


def _parse_condition(text: str, is_known: Callable[[str], bool]) -> Condition | None:
    found = _TERM.match(text)
    if found is None:
        return None
    name, operator, value = found.groups()
    if not is_known(name):
        return None
    return Condition(name, operator, _normalise_value(value))


def _parse_alternative(
    text: str, is_known: Callable[[str], bool], order: list[tuple[str, bool]]
) -> tuple[tuple[Condition, ...], ...]:
    terms: list[list[Condition]] = []
    for token in text.split("^"):
        if token in ("", "EQ"):
            continue
        if token.startswith("ORDERBYDESC"):
            order.append((token.removeprefix("ORDERBYDESC"), True))
            continue
        if token.startswith("ORDERBY"):
            order.append((token.removeprefix("ORDERBY"), False))
            continue

        joins_previous = token.startswith("OR")
        condition = _parse_condition(
            token.removeprefix("OR") if joins_previous else token, is_known
        )
        if condition is None:
            continue
        if joins_previous and terms:
            terms[-1].append(condition)
        else:
            terms.append([condition])
    return tuple(tuple(term) for term in terms)


def parse_query(text: str, is_known: Callable[[str], bool]) -> EncodedQuery:
    """Parse an encoded query; terms on fields for which `is_known` is false are dropped."""
    order: list[tuple[str, bool]] = []
    alternatives = tuple(_parse_alternative(part, is_known, order) for part in text.split("^NQ"))
    known_order = tuple((name, desc) for name, desc in order if name and is_known(name))
    return EncodedQuery(alternatives, known_order)


def _typed(value: str, kind: FieldType) -> datetime | int | str:
    if kind is FieldType.DATETIME:
        try:
            return datetime.strptime(value.strip(), _DATETIME_FORMAT)
        except ValueError:
            return value
    if kind in (FieldType.INTEGER, FieldType.CHOICE) and value.lstrip("-").isdigit():
        return int(value)
    return value


def _compare(actual: str, operator: str, expected: str, kind: FieldType) -> bool:
    if operator == "ISEMPTY":
        return actual == ""
    if operator == "ISNOTEMPTY":
        return actual != ""
    if operator in ("IN", "NOT IN"):
        inside = actual in [item.strip() for item in expected.split(",")]
        return inside if operator == "IN" else not inside

    folded, wanted = actual.casefold(), expected.casefold()
    text_tests = {
        "LIKE": lambda: wanted in folded,
        "NOT LIKE": lambda: wanted not in folded,
        "STARTSWITH": lambda: folded.startswith(wanted),
        "ENDSWITH": lambda: folded.endswith(wanted),
    }
    if operator in text_tests:
        return text_tests[operator]()

    left, right = _typed(actual, kind), _typed(expected, kind)
    if operator == "=":
        return left == right
    if operator == "!=":
        return left != right
    if actual == "" or type(left) is not type(right):
        return False
    ordering = {">": left > right, ">=": left >= right, "<": left < right, "<=": left <= right}  # type: ignore[operator]
    return ordering[operator]


def _condition_holds(condition: Condition, record: Mapping[str, str], resolve: Resolver) -> bool:
    found = resolve(record, condition.field)
    if found is None:
        return False
    value, kind = found
    return _compare(value, condition.operator, condition.value, kind)


def matches(query: EncodedQuery, record: Mapping[str, str], resolve: Resolver) -> bool:
    """Return True if the record satisfies any `^NQ` alternative of the query."""
    return any(
        all(any(_condition_holds(c, record, resolve) for c in term) for term in alternative)
        for alternative in query.alternatives
    )


def _sort_key(value: str, kind: FieldType) -> tuple[int, int, int | float, str]:
    typed = _typed(value, kind)
    if isinstance(typed, datetime):
        return (1, 1, typed.replace(tzinfo=UTC).timestamp(), "")
    if isinstance(typed, int):
        return (1, 1, typed, "")
    return (0 if value == "" else 1, 0, 0, value)


def sort_records(
    records: Iterable[Mapping[str, str]], order: tuple[tuple[str, bool], ...], resolve: Resolver
) -> list[Mapping[str, str]]:
    """Sort by the ORDERBY fields, first field most significant; empty values sort first."""
    rows = list(records)
    for name, descending in reversed(order):

        def key(row: Mapping[str, str], name: str = name) -> tuple[int, int, int | float, str]:
            found = resolve(row, name)
            return _sort_key(*found) if found else (0, 0, 0, "")

        rows.sort(key=key, reverse=descending)
    return rows
