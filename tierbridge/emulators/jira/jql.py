"""The JQL subset the emulator understands, evaluated against stored issues.

Supported: clauses joined by AND; `project`, `key`/`issuekey`/`id`, `status` with `=`/`!=`;
`updated`/`created` with `=`, `!=`, `>`, `>=`, `<`, `<=`; the External reference text field
(`"External reference"`, `cf[10060]` or `customfield_10060`) with `~`/`!~`; and
`ORDER BY updated|created|key|id [ASC|DESC], ...`.

Date literals (`yyyy-MM-dd HH:mm`, `yyyy/MM/dd HH:mm` or a bare date, read as midnight) are read
in the searching user's time zone, to the minute, as Jira reads them. `~` matches when every word
of the value is a word of the field, case-insensitively, so `~ "INC001"` does not match
`INC0010023`: Jira's text search also matches whole words, not substrings.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from tierbridge.emulators.jira import catalog
from tierbridge.emulators.jira.state import JiraState, StoredIssue
from tierbridge.emulators.jira.wire import ApiError

__all__ = ["Query", "parse_jql"]

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<op>>=|<=|!=|!~|=|>|<|~)
      | (?P<comma>,)
      | (?P<paren>[()])
      | (?P<word>cf\[\d+\]|[^\s"'=!<>~(),]+)
    )""",
    re.VERBOSE | re.IGNORECASE,
)
_DATE_FORMATS = ("%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y-%m-%d", "%Y/%m/%d")
_WORD = re.compile(r"[0-9a-z]+")
_UNSUPPORTED_KEYWORDS = {"or", "not", "in", "is", "was", "changed", "empty", "null"}

_FIELD_ALIASES = {
    "project": "project",
    "key": "key",
    "issuekey": "key",
    "issue": "key",
    "id": "key",
    "status": "status",
    "updated": "updated",
    "updateddate": "updated",
    "created": "created",
    "createddate": "created",
    "external reference": "correlation",
    "cf[10060]": "correlation",
    catalog.CORRELATION_FIELD: "correlation",
}
_OPERATORS = {
    "project": {"=", "!="},
    "key": {"=", "!="},
    "status": {"=", "!="},
    "updated": {"=", "!=", ">", ">=", "<", "<="},
    "created": {"=", "!=", ">", ">=", "<", "<="},
    "correlation": {"~", "!~"},
}
_DISPLAY = {"correlation": "External reference"}

Predicate = Callable[[StoredIssue], bool]


@dataclass(frozen=True)
class Query:
    """A parsed query: all `clauses` must hold; `order` is (field, descending) pairs."""

    clauses: tuple[Predicate, ...]
    order: tuple[tuple[str, bool], ...]

    def run(self, issues: Iterable[StoredIssue]) -> list[StoredIssue]:
        matched = [issue for issue in issues if all(test(issue) for test in self.clauses)]
        for name, descending in reversed(self.order or (("id", False),)):
            matched.sort(key=_sort_key(name), reverse=descending)
        return matched


def _error(text: str) -> ApiError:
    return ApiError(400, [text])


def _tokens(jql: str) -> list[tuple[str, str]]:
    tokens = []
    position = 0
    stripped = jql.rstrip()
    while position < len(stripped):
        match = _TOKEN.match(stripped, position)
        if match is None or match.end() == position:
            raise _error(f"Error in the JQL Query: unexpected character at position {position}.")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


def _unquote(kind: str, text: str) -> str:
    if kind != "string":
        return text
    return re.sub(r"\\(.)", r"\1", text[1:-1])


def parse_jql(jql: str, state: JiraState, time_zone: str) -> Query:
    """Parse `jql` for a user in `time_zone`; raise a Jira-style 400 for anything unsupported."""
    if not jql.strip():
        raise _error(
            "Unbounded JQL queries are not allowed here. Please add a search restriction to "
            "your query."
        )
    tokens = _tokens(jql)
    clauses: list[Predicate] = []
    position = 0
    while position < len(tokens) and tokens[position][1].lower() != "order":
        if clauses:
            _expect_and(tokens, position)
            position += 1
        if position + 3 > len(tokens):
            raise _error("Error in the JQL Query: the query ends in the middle of a clause.")
        clauses.append(_clause(tokens[position : position + 3], state, time_zone))
        position += 3
    order = _order_by(tokens[position:])
    return Query(tuple(clauses), order)


def _expect_and(tokens: list[tuple[str, str]], position: int) -> None:
    word = tokens[position][1].lower()
    if word in _UNSUPPORTED_KEYWORDS:
        raise _error(f"Error in the JQL Query: the emulator does not support '{word.upper()}'.")
    if word != "and":
        raise _error(f"Error in the JQL Query: expected AND but got '{tokens[position][1]}'.")


def _clause(tokens: list[tuple[str, str]], state: JiraState, time_zone: str) -> Predicate:
    (field_kind, field_text), (op_kind, operator), (value_kind, value_text) = tokens
    name = _unquote(field_kind, field_text)
    field = _FIELD_ALIASES.get(name.lower())
    if field is None:
        raise _error(f"Field '{name}' does not exist or you do not have permission to view it.")
    if op_kind != "op" or value_kind not in ("string", "word"):
        raise _error(f"Error in the JQL Query: expected an operator and a value after '{name}'.")
    if operator not in _OPERATORS[field]:
        label = _DISPLAY.get(field, name)
        raise _error(f"The operator '{operator}' is not supported by the '{label}' field.")
    value = _unquote(value_kind, value_text)
    negate = operator in ("!=", "!~")
    test = _build_test(field, operator, value, state, time_zone)
    return (lambda issue: not test(issue)) if negate else test


def _build_test(
    field: str, operator: str, value: str, state: JiraState, time_zone: str
) -> Predicate:
    if field == "project":
        if value.upper() not in (state.project_key, catalog.PROJECT_ID):
            raise _error(f"The value '{value}' does not exist for the field 'project'.")
        return lambda issue: True
    if field == "key":
        return _key_test(value, state)
    if field == "status":
        return lambda issue: catalog.STATUSES[issue.status_id].name.lower() == value.lower()
    if field == "correlation":
        words = set(_WORD.findall(value.lower()))
        return lambda issue: (
            bool(words) and words <= set(_WORD.findall((issue.correlation or "").lower()))
        )
    return _date_test(field, operator, _parse_date(field, value, time_zone))


def _key_test(value: str, state: JiraState) -> Predicate:
    found = state.find(value)
    if found is None:
        raise _error(f"An issue with key '{value}' does not exist for field 'key'.")
    return lambda issue: issue.id == found.id


def _parse_date(field: str, value: str, time_zone: str) -> datetime:
    for pattern in _DATE_FORMATS:
        try:
            naive = datetime.strptime(value, pattern)
        except ValueError:
            continue
        return naive.replace(tzinfo=ZoneInfo(time_zone))
    raise _error(
        f"Date value '{value}' for field '{field}' is invalid. Valid formats include: "
        "'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd'. "
        "Relative dates such as '-5d' are not supported by the emulator."
    )


def _date_test(field: str, operator: str, bound: datetime) -> Predicate:
    compare: dict[str, Callable[[datetime], bool]] = {
        "=": lambda moment: moment == bound,
        "!=": lambda moment: moment == bound,
        ">": lambda moment: moment > bound,
        ">=": lambda moment: moment >= bound,
        "<": lambda moment: moment < bound,
        "<=": lambda moment: moment <= bound,
    }
    check = compare[operator]
    return lambda issue: check(getattr(issue, field))


def _order_by(tokens: list[tuple[str, str]]) -> tuple[tuple[str, bool], ...]:
    if not tokens:
        return ()
    if len(tokens) < 3 or tokens[1][1].lower() != "by":
        raise _error("Error in the JQL Query: expected 'ORDER BY' followed by a field.")
    order: list[tuple[str, bool]] = []
    for part in _split_commas(tokens[2:]):
        name = _FIELD_ALIASES.get(_unquote(*part[0]).lower())
        if name not in ("updated", "created", "key") or len(part) > 2:
            raise _error(f"Error in the JQL Query: cannot order by '{part[0][1]}'.")
        direction = part[1][1].lower() if len(part) == 2 else "asc"
        if direction not in ("asc", "desc"):
            raise _error(f"Error in the JQL Query: unknown sort direction '{part[1][1]}'.")
        order.append((name, direction == "desc"))
    return tuple(order)


def _split_commas(tokens: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    parts: list[list[tuple[str, str]]] = [[]]
    for token in tokens:
        if token[0] == "comma":
            parts.append([])
        else:
            parts[-1].append(token)
    if any(not part for part in parts):
        raise _error("Error in the JQL Query: empty ORDER BY item.")
    return parts


def _sort_key(name: str) -> Callable[[StoredIssue], Any]:
    if name == "key":
        return lambda issue: (issue.key.rsplit("-", 1)[0], int(issue.key.rsplit("-", 1)[1]))
    if name == "id":
        return lambda issue: issue.id
    return lambda issue: getattr(issue, name)
