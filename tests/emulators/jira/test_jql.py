from __future__ import annotations

import pytest

from tests.emulators.jira.support import FakeClock
from tierbridge.emulators.jira.catalog import DEFAULT_TOKENS, INTEGRATION_USER
from tierbridge.emulators.jira.jql import parse_jql
from tierbridge.emulators.jira.state import JiraState
from tierbridge.emulators.jira.wire import ApiError

BERLIN = "Europe/Berlin"


@pytest.fixture
def state() -> JiraState:
    """Three issues updated at 07:15:42, 07:16:30 and 07:17:05 UTC (09:15-09:17 in Berlin)."""
    clock = FakeClock()
    jira = JiraState("L2", DEFAULT_TOKENS, clock, lambda change: None)
    for number, step in enumerate((0, 48, 35), start=1):
        clock.advance(step)
        jira.create_issue(
            INTEGRATION_USER,
            {"summary": f"issue {number}", "customfield_10060": f"snow:INC00{number}"},
        )
    return jira


def _keys(state: JiraState, jql: str, zone: str = BERLIN) -> list[str]:
    return [issue.key for issue in parse_jql(jql, state, zone).run(state.issues.values())]


def test_updated_read_in_user_zone(state: JiraState) -> None:
    """A date literal is local time of the searching user, not UTC."""
    assert _keys(state, 'project = L2 AND updated >= "2024-05-01 09:16"') == ["L2-2", "L2-3"]
    assert _keys(state, 'project = L2 AND updated >= "2024-05-01 07:16"') == [
        "L2-1",
        "L2-2",
        "L2-3",
    ]


def test_updated_minute_precision(state: JiraState) -> None:
    """The literal names a whole minute: >= 09:15 includes 09:15:42."""
    assert _keys(state, 'project = L2 AND updated >= "2024-05-01 09:15"') == [
        "L2-1",
        "L2-2",
        "L2-3",
    ]
    assert _keys(state, 'project = L2 AND updated < "2024-05-01 09:16"') == ["L2-1"]


def test_updated_other_zone(state: JiraState) -> None:
    """The same literal selects differently for a user in Kolkata."""
    jql = 'project = L2 AND updated >= "2024-05-01 12:46"'

    assert _keys(state, jql, "Asia/Kolkata") == ["L2-2", "L2-3"]


def test_date_only_literal(state: JiraState) -> None:
    """A bare date is read as midnight."""
    assert _keys(state, 'project = L2 AND updated <= "2024/05/01"') == []
    assert len(_keys(state, 'project = L2 AND updated > "2024-05-01"')) == 3


@pytest.mark.parametrize("field", ['"External reference"', "cf[10060]", "customfield_10060"])
def test_text_search_aliases(state: JiraState, field: str) -> None:
    """The correlation field is found by name, cf[] id or field id."""
    assert _keys(state, f'project = L2 AND {field} ~ "snow:INC002"') == ["L2-2"]


def test_text_search_whole_words(state: JiraState) -> None:
    """`~` matches whole words, so a prefix of the value finds nothing."""
    assert _keys(state, 'project = L2 AND cf[10060] ~ "INC00"') == []
    assert _keys(state, r'project = L2 AND cf[10060] ~ "\"snow:INC003\""') == ["L2-3"]


def test_key_and_id_clauses(state: JiraState) -> None:
    """`key` takes a key and `id` a numeric id."""
    assert _keys(state, "key = L2-2") == ["L2-2"]
    assert _keys(state, "id = 10002") == ["L2-3"]


def test_order_by_updated_desc(state: JiraState) -> None:
    """ORDER BY sorts, keys numerically."""
    assert _keys(state, "project = L2 ORDER BY updated DESC") == ["L2-3", "L2-2", "L2-1"]
    assert _keys(state, "project = L2 ORDER BY key ASC") == ["L2-1", "L2-2", "L2-3"]


@pytest.mark.parametrize(
    ("jql", "message"),
    [
        ("", "Unbounded JQL queries are not allowed here"),
        ("project = L2 OR key = L2-1", "does not support 'OR'"),
        ('updated >= "yesterday"', "Date value 'yesterday' for field 'updated' is invalid"),
        ('"External reference" = "x"', "The operator '=' is not supported"),
        ("nosuchfield = 1", "Field 'nosuchfield' does not exist"),
        ("project = XX", "The value 'XX' does not exist for the field 'project'"),
        ("key = L2-99", "An issue with key 'L2-99' does not exist"),
        ("project = L2 ORDER BY summary", "cannot order by"),
    ],
)
def test_invalid_queries_give_400(state: JiraState, jql: str, message: str) -> None:
    """Unsupported or wrong JQL is refused with Jira's 400 body."""
    with pytest.raises(ApiError) as caught:
        parse_jql(jql, state, BERLIN)

    assert caught.value.status == 400
    assert message in caught.value.messages[0]
