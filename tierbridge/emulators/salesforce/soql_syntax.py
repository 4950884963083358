"""The parsed form of a SOQL query, and the error a rejected query raises."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "Comparison",
    "Condition",
    "FieldPath",
    "Junction",
    "LikeMatch",
    "Membership",
    "Negation",
    "OrderItem",
    "Query",
    "SoqlError",
    "SubQuery",
    "Value",
]


class SoqlError(Exception):
    """A query the emulator rejects; `code` is the errorCode of the 400 response."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Value:
    """A literal: `kind` is string, number, boolean, null or datetime."""

    kind: Literal["string", "number", "boolean", "null", "datetime"]
    value: Any


@dataclass(frozen=True)
class FieldPath:
    """A field name, or a relationship path such as `CreatedBy.Name`, as written."""

    parts: tuple[str, ...]

    @property
    def text(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True)
class Comparison:
    """`path operator value`, with `<>` read as `!=`."""

    path: FieldPath
    operator: str
    value: Value


@dataclass(frozen=True)
class Membership:
    """`path IN (values)`, or `NOT IN` when negated."""

    path: FieldPath
    values: tuple[Value, ...]
    negated: bool


@dataclass(frozen=True)
class LikeMatch:
    """`path LIKE pattern`; the pattern keeps `\\%` and `\\_` escaped."""

    path: FieldPath
    pattern: str


@dataclass(frozen=True)
class Junction:
    """Two or more conditions joined by one operator."""

    operator: Literal["AND", "OR"]
    parts: tuple[Condition, ...]


@dataclass(frozen=True)
class Negation:
    """`NOT condition`."""

    part: Condition


Condition = Comparison | Membership | LikeMatch | Junction | Negation


@dataclass(frozen=True)
class OrderItem:
    """One ORDER BY key; nulls sort first unless NULLS LAST is given."""

    path: FieldPath
    descending: bool
    nulls_last: bool


@dataclass(frozen=True)
class SubQuery:
    """A parent-to-child subquery; `query.source` is the child relationship name."""

    query: Query


@dataclass(frozen=True)
class Query:
    """One parsed SELECT; `source` is an object name, or a child relationship in a subquery."""

    select: tuple[FieldPath | SubQuery, ...]
    source: str
    where: Condition | None
    order: tuple[OrderItem, ...]
    limit: int | None
