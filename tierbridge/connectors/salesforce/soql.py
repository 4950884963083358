"""Build SOQL text: literals that cannot break out of their quotes, and the queries we run.

Date-time literals are unquoted UTC with `Z` (`2024-05-01T09:00:00Z`), the documented form
without fractions of a second, so no `+` offset needs URL-encoding. String literals escape
backslash, quote and control characters as SOQL requires.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from tierbridge.connectors.salesforce.ids import normalize_id
from tierbridge.core.model import utc

__all__ = ["Cursor", "Select", "datetime_literal", "id_literal", "string_literal"]

_ESCAPES = {
    "\\": "\\\\",
    "'": "\\'",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
}


def datetime_literal(moment: datetime) -> str:
    """Return an aware datetime as an unquoted UTC literal, floored to the second."""
    return utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def string_literal(text: str) -> str:
    """Return `text` quoted as a SOQL string literal."""
    return "'" + "".join(_ESCAPES.get(char, char) for char in text) + "'"


def id_literal(record_id: str) -> str:
    """Return an id quoted for SOQL; raise ValueError if it is not a Salesforce id."""
    return string_literal(normalize_id(record_id))


@dataclass(frozen=True)
class Cursor:
    """A position in a list ordered by `SystemModstamp, Id`: the last row read.

    Rows after it are those with a later timestamp, or the same timestamp and a greater Id,
    so a query resumed from a cursor neither repeats nor skips rows that share a timestamp.
    """

    stamp: datetime
    record_id: str

    def condition(self) -> str:
        """Return the WHERE term that selects the rows after this position."""
        stamp = datetime_literal(self.stamp)
        record = id_literal(self.record_id)
        return f"(SystemModstamp > {stamp} OR (SystemModstamp = {stamp} AND Id > {record}))"


@dataclass(frozen=True)
class Select:
    """One SELECT statement; `where` terms are joined with AND."""

    fields: Sequence[str]
    source: str
    where: Sequence[str] = ()
    order_by: Sequence[str] = ()
    limit: int | None = None

    def text(self) -> str:
        """Return the statement as SOQL."""
        parts = ["SELECT", ", ".join(self.fields), "FROM", self.source]
        if self.where:
            parts += ["WHERE", " AND ".join(self.where)]
        if self.order_by:
            parts += ["ORDER BY", ", ".join(self.order_by)]
        if self.limit is not None:
            parts += ["LIMIT", str(self.limit)]
        return " ".join(parts)

    def with_terms(self, *terms: str) -> Select:
        """Return a copy with more WHERE terms."""
        return Select(self.fields, self.source, [*self.where, *terms], self.order_by, self.limit)
