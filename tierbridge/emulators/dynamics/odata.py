"""The OData query options `$select` and `$filter`, as far as the emulator understands them.

`$filter` covers comparisons (`eq ne gt ge lt le`), `and`, `or`, `not`, parentheses and the
string functions `contains`, `startswith` and `endswith`. Literals are typed by the column
they meet: strings are quoted (`''` escapes a quote), GUIDs, numbers, booleans, `null` and
date-times (`2024-05-01T09:00:00Z`) are not. String comparisons ignore case, as Dataverse's
default collation does. An unknown column or a literal of the wrong type is a 400, never a
silently ignored term.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from tierbridge.emulators.dynamics.envelope import NOT_FOUND_SEGMENT, odata_error
from tierbridge.emulators.dynamics.schema import Column, Kind, Table
from tierbridge.emulators.dynamics.values import Ref

__all__ = [
    "Comparison",
    "Expression",
    "Filter",
    "column_for",
    "matches",
    "parse_filter",
    "parse_select",
]

_TOKEN = re.compile(r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<punct>[(),])|(?P<word>[^\s(),']+))")
_OPERATORS = frozenset({"eq", "ne", "gt", "ge", "lt", "le"})
_FUNCTIONS = frozenset({"contains", "startswith", "endswith"})


def _bad_query(message: str) -> Exception:
    return odata_error(400, NOT_FOUND_SEGMENT, message)


def column_for(table: Table, name: str) -> tuple[str, Column]:
    """Resolve a query name to (column, definition); lookups are named `_<column>_value`."""
    column_name = name
    if name.startswith("_") and name.endswith("_value"):
        column_name = name[1:-6]
        column = table.columns.get(column_name)
        if column is not None and column.kind is Kind.LOOKUP:
            return column_name, column
    else:
        column = table.columns.get(name)
        if column is not None and column.kind is not Kind.LOOKUP:
            return column_name, column
    msg = f"Could not find a property named '{name}' on type 'Microsoft.Dynamics.CRM.{table.logical_name}'."
    raise _bad_query(msg)


def parse_select(table: Table, text: str | None) -> list[str] | None:
    """Return the selected query names, checked against the table; None selects every column."""
    if not text:
        return None
    names = [part.strip() for part in text.split(",") if part.strip()]
    for name in names:
        column_for(table, name)
    return names


# -- $filter ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """`column op literal`, or a string function of a column and a text."""

    column: str
    operator: str
    value: Any


@dataclass(frozen=True)
class Filter:
    """`and`/`or` of two filters, or `not` of one (`right` is None)."""

    operator: str
    left: Filter | Comparison
    right: Filter | Comparison | None = None


Expression = Filter | Comparison


class _Parser:
    def __init__(self, table: Table, text: str) -> None:
        self._table = table
        self._tokens = self._tokenize(text)
        self._at = 0

    @staticmethod
    def _tokenize(text: str) -> list[str]:
        tokens: list[str] = []
        position = 0
        while position < len(text):
            if text[position:].strip() == "":
                break
            match = _TOKEN.match(text, position)
            if match is None:
                raise _bad_query(f"Syntax error at position {position} in '{text}'.")
            tokens.append(match.group(match.lastgroup or "word"))
            position = match.end()
        return tokens

    def _peek(self) -> str | None:
        return self._tokens[self._at] if self._at < len(self._tokens) else None

    def _take(self, expected: str | None = None) -> str:
        token = self._peek()
        if token is None or (expected is not None and token.lower() != expected):
            raise _bad_query(f"Syntax error: expected {expected or 'a term'}, found {token!r}.")
        self._at += 1
        return token

    def parse(self) -> Expression:
        expression = self._or()
        if self._peek() is not None:
            raise _bad_query(f"Syntax error: unexpected {self._peek()!r}.")
        return expression

    def _or(self) -> Expression:
        left = self._and()
        while (self._peek() or "").lower() == "or":
            self._take()
            left = Filter("or", left, self._and())
        return left

    def _and(self) -> Expression:
        left = self._unary()
        while (self._peek() or "").lower() == "and":
            self._take()
            left = Filter("and", left, self._unary())
        return left

    def _unary(self) -> Expression:
        word = self._take()
        if word.lower() == "not":
            return Filter("not", self._unary())
        if word == "(":
            inner = self._or()
            self._take(")")
            return inner
        if word.lower() in _FUNCTIONS and self._peek() == "(":
            return self._function(word.lower())
        operator = self._take().lower()
        if operator not in _OPERATORS:
            raise _bad_query(f"Syntax error: unknown operator {operator!r}.")
        name, column = column_for(self._table, word)
        return Comparison(name, operator, _literal(column, self._take(), word))

    def _function(self, name: str) -> Comparison:
        self._take("(")
        query_name = self._take()
        column_name, column = column_for(self._table, query_name)
        self._take(",")
        text = self._take()
        self._take(")")
        if column.kind is not Kind.STRING or not text.startswith("'"):
            raise _bad_query(f"{name} needs a text column and a quoted text, got {query_name}.")
        return Comparison(column_name, name, text[1:-1].replace("''", "'"))


def _literal(column: Column, literal: str, name: str) -> Any:
    """Convert a literal to the column's type; raise the 400 for a mismatch."""
    if literal == "null":
        return None
    quoted = literal.startswith("'")
    try:
        if column.kind is Kind.STRING and quoted:
            return literal[1:-1].replace("''", "'")
        if quoted:
            raise ValueError(literal)
        if column.kind in (Kind.GUID, Kind.LOOKUP):
            return str(uuid.UUID(literal))
        if column.kind in (Kind.INTEGER, Kind.BIGINT, Kind.PICKLIST):
            return int(literal)
        if column.kind is Kind.BOOLEAN and literal in ("true", "false"):
            return literal == "true"
        if column.kind is Kind.DATETIME and "T" in literal:
            return datetime.fromisoformat(literal).astimezone(UTC)
        if column.kind is Kind.DATE:
            return date.fromisoformat(literal)
    except ValueError:
        pass
    msg = (
        f"A binary operator with incompatible types was detected. "
        f"Found operand types '{column.kind.value}' and literal {literal} for '{name}'."
    )
    raise _bad_query(msg)


def parse_filter(table: Table, text: str | None) -> Expression | None:
    """Parse a `$filter` value; None or "" gives None (every row matches)."""
    if not text or not text.strip():
        return None
    return _Parser(table, text).parse()


def _compare(stored: Any, operator: str, wanted: Any) -> bool:
    if isinstance(stored, Ref):
        stored = stored.id
    if isinstance(stored, str) and isinstance(wanted, str):
        stored, wanted = stored.casefold(), wanted.casefold()
    if operator == "eq":
        return bool(stored == wanted)
    if operator == "ne":
        return bool(stored != wanted)
    if stored is None or wanted is None:
        return False
    if operator == "contains":
        return bool(wanted in stored)
    if operator == "startswith":
        return bool(stored.startswith(wanted))
    if operator == "endswith":
        return bool(stored.endswith(wanted))
    checks: dict[str, Callable[[Any, Any], bool]] = {
        "gt": lambda a, b: a > b,
        "ge": lambda a, b: a >= b,
        "lt": lambda a, b: a < b,
        "le": lambda a, b: a <= b,
    }
    return checks[operator](stored, wanted)


def matches(expression: Expression | None, row: Mapping[str, Any]) -> bool:
    """Tell whether a stored row satisfies a parsed filter."""
    if expression is None:
        return True
    if isinstance(expression, Comparison):
        return _compare(row.get(expression.column), expression.operator, expression.value)
    if expression.operator == "not":
        return not matches(expression.left, row)
    left = matches(expression.left, row)
    if expression.operator == "and":
        return left and matches(expression.right, row)
    return left or matches(expression.right, row)
