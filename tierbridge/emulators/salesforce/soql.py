"""Parse the subset of SOQL the emulator supports.

    SELECT field, Rel.field, (SELECT ... FROM ChildRelationship ...) FROM Object
    [WHERE condition] [ORDER BY field [ASC|DESC] [NULLS FIRST|LAST], ...] [LIMIT n]

Conditions use =, !=, <>, <, <=, >, >=, IN (...), NOT IN (...), LIKE, AND, OR, NOT and
parentheses. Literals are 'quoted strings' with backslash escapes, numbers, true, false,
null, and unquoted date-times in the two documented forms, `2024-05-01T09:00:00Z` and
`2024-05-01T09:00:00+02:00`, without fractions of a second. Keywords are case-insensitive.
A query outside this subset raises SoqlError with the MALFORMED_QUERY code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from tierbridge.emulators.salesforce.soql_syntax import (
    Comparison,
    Condition,
    FieldPath,
    Junction,
    LikeMatch,
    Membership,
    Negation,
    OrderItem,
    Query,
    SoqlError,
    SubQuery,
    Value,
)

__all__ = ["parse_soql"]

_TOKEN = re.compile(
    r"""
      (?P<space>\s+)
    | (?P<string>'(?:[^'\\]|\\.)*')
    | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})?)
    | (?P<number>-?\d+(?:\.\d+)?)
    | (?P<op>!=|<>|<=|>=|=|<|>)
    | (?P<punct>[(),])
    | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
    """,
    re.VERBOSE,
)
_ESCAPES = {"'": "'", '"': '"', "\\": "\\", "n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f"}
#: Escapes kept as written: LIKE reads `\%` and `\_` as literal wildcard characters.
_LIKE_ESCAPES = {"%", "_"}
_DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%S%z"
_ZONE = re.compile(r"(Z|[+-]\d{2}:\d{2})$")


def _malformed(message: str) -> SoqlError:
    return SoqlError("MALFORMED_QUERY", message)


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str


def _tokenize(text: str) -> list[_Token]:
    tokens = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise _malformed(f"unexpected character {text[position]!r} at position {position}")
        kind = match.lastgroup or ""
        if kind != "space":
            tokens.append(_Token(kind, match.group()))
        position = match.end()
    return tokens


def _unquote(token: str, *, like: bool) -> str:
    body = token[1:-1]
    chars = []
    index = 0
    while index < len(body):
        char = body[index]
        if char != "\\":
            chars.append(char)
            index += 1
            continue
        escaped = body[index + 1]
        if like and escaped in _LIKE_ESCAPES:
            chars.append("\\" + escaped)
        elif escaped in _ESCAPES:
            chars.append(_ESCAPES[escaped])
        else:
            raise _malformed(f"invalid escape sequence \\{escaped} in a string literal")
        index += 2
    return "".join(chars)


def _parse_datetime(text: str) -> datetime:
    if "." in text:
        raise _malformed(f"date-time literal {text} has fractions of a second; drop them")
    if not _ZONE.search(text):
        raise _malformed(f"date-time literal {text} has no time zone; end it with Z or +hh:mm")
    return datetime.strptime(text.replace("Z", "+00:00"), _DATETIME_FORMAT)


class _Parser:
    def __init__(self, text: str) -> None:
        self._tokens = _tokenize(text)
        self._index = 0

    # -- token helpers ---------------------------------------------------------------------

    def _peek(self, offset: int = 0) -> _Token | None:
        index = self._index + offset
        return self._tokens[index] if index < len(self._tokens) else None

    def _is_keyword(self, word: str, offset: int = 0) -> bool:
        token = self._peek(offset)
        return token is not None and token.kind == "name" and token.text.upper() == word

    def _is_punct(self, char: str) -> bool:
        token = self._peek()
        return token is not None and token.kind == "punct" and token.text == char

    def _take(self) -> _Token:
        token = self._peek()
        if token is None:
            raise _malformed("unexpected end of query")
        self._index += 1
        return token

    def _expect_keyword(self, word: str) -> None:
        token = self._take()
        if token.kind != "name" or token.text.upper() != word:
            raise _malformed(f"expected {word}, found {token.text!r}")

    def _expect_punct(self, char: str) -> None:
        token = self._take()
        if token.kind != "punct" or token.text != char:
            raise _malformed(f"expected {char!r}, found {token.text!r}")

    def _name(self) -> str:
        token = self._take()
        if token.kind != "name":
            raise _malformed(f"expected a name, found {token.text!r}")
        return token.text

    # -- grammar ---------------------------------------------------------------------------

    def query(self) -> Query:
        self._expect_keyword("SELECT")
        select = self._select_list()
        self._expect_keyword("FROM")
        source = self._name()
        where = None
        if self._is_keyword("WHERE"):
            self._take()
            where = self._disjunction()
        order: tuple[OrderItem, ...] = ()
        if self._is_keyword("ORDER"):
            self._take()
            self._expect_keyword("BY")
            order = self._order_list()
        limit = None
        if self._is_keyword("LIMIT"):
            self._take()
            token = self._take()
            if token.kind != "number" or not token.text.isdigit():
                raise _malformed(f"LIMIT needs a whole number, found {token.text!r}")
            limit = int(token.text)
        return Query(select, source, where, order, limit)

    def _select_list(self) -> tuple[FieldPath | SubQuery, ...]:
        items: list[FieldPath | SubQuery] = []
        while True:
            if self._is_punct("("):
                self._take()
                items.append(SubQuery(self.query()))
                self._expect_punct(")")
            else:
                items.append(FieldPath(tuple(self._name().split("."))))
            if not self._is_punct(","):
                return tuple(items)
            self._take()

    def _order_list(self) -> tuple[OrderItem, ...]:
        items = []
        while True:
            path = FieldPath(tuple(self._name().split(".")))
            descending = False
            if self._is_keyword("ASC") or self._is_keyword("DESC"):
                descending = self._take().text.upper() == "DESC"
            nulls_last = False
            if self._is_keyword("NULLS"):
                self._take()
                placement = self._name().upper()
                if placement not in ("FIRST", "LAST"):
                    raise _malformed(f"expected FIRST or LAST after NULLS, found {placement}")
                nulls_last = placement == "LAST"
            items.append(OrderItem(path, descending, nulls_last))
            if not self._is_punct(","):
                return tuple(items)
            self._take()

    def _disjunction(self) -> Condition:
        parts = [self._conjunction()]
        while self._is_keyword("OR"):
            self._take()
            parts.append(self._conjunction())
        return parts[0] if len(parts) == 1 else Junction("OR", tuple(parts))

    def _conjunction(self) -> Condition:
        parts = [self._factor()]
        while self._is_keyword("AND"):
            self._take()
            parts.append(self._factor())
        return parts[0] if len(parts) == 1 else Junction("AND", tuple(parts))

    def _factor(self) -> Condition:
        if self._is_keyword("NOT"):
            self._take()
            return Negation(self._factor())
        if self._is_punct("("):
            self._take()
            inner = self._disjunction()
            self._expect_punct(")")
            return inner
        return self._predicate()

    def _predicate(self) -> Condition:
        path = FieldPath(tuple(self._name().split(".")))
        if self._is_keyword("LIKE"):
            self._take()
            token = self._take()
            if token.kind != "string":
                raise _malformed("LIKE needs a quoted pattern")
            return LikeMatch(path, _unquote(token.text, like=True))
        negated = self._is_keyword("NOT") and self._is_keyword("IN", 1)
        if negated:
            self._take()
        if self._is_keyword("IN"):
            self._take()
            return Membership(path, self._value_list(), negated)
        token = self._take()
        if token.kind != "op":
            raise _malformed(f"expected an operator after {path.text}, found {token.text!r}")
        operator = "!=" if token.text == "<>" else token.text
        return Comparison(path, operator, self._value())

    def _value_list(self) -> tuple[Value, ...]:
        self._expect_punct("(")
        values = [self._value()]
        while self._is_punct(","):
            self._take()
            values.append(self._value())
        self._expect_punct(")")
        return tuple(values)

    def _value(self) -> Value:
        token = self._take()
        if token.kind == "string":
            return Value("string", _unquote(token.text, like=False))
        if token.kind == "number":
            return Value("number", float(token.text))
        if token.kind == "datetime":
            return Value("datetime", _parse_datetime(token.text))
        word = token.text.lower() if token.kind == "name" else ""
        if word in ("true", "false"):
            return Value("boolean", word == "true")
        if word == "null":
            return Value("null", None)
        raise _malformed(f"expected a value, found {token.text!r}")


def parse_soql(text: str) -> Query:
    """Parse a whole query; raise SoqlError (MALFORMED_QUERY) if it is outside the subset."""
    parser = _Parser(text)
    query = parser.query()
    leftover = parser._peek()
    if leftover is not None:
        raise _malformed(f"unexpected {leftover.text!r} after the end of the query")
    return query
