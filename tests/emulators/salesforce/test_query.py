from __future__ import annotations

from typing import Any

import pytest

from tests.emulators.salesforce.support import FakeClock
from tierbridge.emulators.salesforce import INTEGRATION_USERNAME, SalesforceState
from tierbridge.emulators.salesforce.query import run_query
from tierbridge.emulators.salesforce.soql import parse_soql
from tierbridge.emulators.salesforce.soql_syntax import SoqlError


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def state(clock: FakeClock) -> SalesforceState:
    return SalesforceState(clock=clock)


@pytest.fixture
def user_id(state: SalesforceState) -> str:
    user = state.user_by_username(INTEGRATION_USERNAME)
    assert user is not None
    return str(user["Id"])


def run(state: SalesforceState, soql: str, *, deleted: bool = False) -> list[dict[str, Any]]:
    return run_query(parse_soql(soql), state, version="62.0", include_deleted=deleted)


def case(state: SalesforceState, user_id: str, **values: Any) -> str:
    return str(state.insert("Case", {"Subject": "VPN", **values}, user_id=user_id)["Id"])


def test_rows_render_with_attributes(state: SalesforceState, user_id: str) -> None:
    """Rows carry `attributes` and the selected fields, date-times as `.000+0000`."""
    case_id = case(state, user_id, Priority="High")

    [row] = run(state, "SELECT Id, CaseNumber, Priority, SystemModstamp, IsClosed FROM Case")

    assert row == {
        "attributes": {"type": "Case", "url": f"/services/data/v62.0/sobjects/Case/{case_id}"},
        "Id": case_id,
        "CaseNumber": "00001001",
        "Priority": "High",
        "SystemModstamp": "2024-05-01T07:15:42.000+0000",
        "IsClosed": False,
    }


def test_field_names_case_insensitive(state: SalesforceState, user_id: str) -> None:
    """Fields may be written in any case; rows use the API names."""
    case(state, user_id)

    [row] = run(state, "SELECT id, SUBJECT FROM case WHERE subject = 'vpn'")

    assert set(row) == {"attributes", "Id", "Subject"}


def test_text_comparison_ignores_case(state: SalesforceState, user_id: str) -> None:
    """`=`, IN and LIKE on text ignore case, as SOQL does."""
    case(state, user_id, Subject="VPN drops")
    case(state, user_id, Subject="Printer")

    assert len(run(state, "SELECT Id FROM Case WHERE Subject = 'vpn DROPS'")) == 1
    assert len(run(state, "SELECT Id FROM Case WHERE Subject IN ('PRINTER', 'x')")) == 1
    assert len(run(state, "SELECT Id FROM Case WHERE Subject LIKE 'vpn%'")) == 1
    assert len(run(state, "SELECT Id FROM Case WHERE Subject LIKE '_rinter'")) == 1
    assert len(run(state, "SELECT Id FROM Case WHERE NOT Subject LIKE 'vpn%'")) == 1


def test_id_literal_15_or_18(state: SalesforceState, user_id: str) -> None:
    """An Id filter accepts the 15-character form and any case of the 18-character one."""
    case_id = case(state, user_id)

    for literal in (case_id, case_id[:15], case_id.lower()):
        soql = f"SELECT Id FROM Case WHERE Id = '{literal}'"  # noqa: S608 - an id literal
        assert [row["Id"] for row in run(state, soql)] == [case_id]


def test_invalid_id_literal(state: SalesforceState) -> None:
    """A malformed id literal is INVALID_QUERY_FILTER_OPERATOR."""
    with pytest.raises(SoqlError) as caught:
        run(state, "SELECT Id FROM Case WHERE Id = 'nope'")

    assert caught.value.code == "INVALID_QUERY_FILTER_OPERATOR"


def test_quoted_datetime_rejected(state: SalesforceState) -> None:
    """A quoted date-time is INVALID_FIELD, as in an org."""
    with pytest.raises(SoqlError) as caught:
        run(state, "SELECT Id FROM Case WHERE SystemModstamp > '2024-05-01T00:00:00Z'")

    assert caught.value.code == "INVALID_FIELD"
    assert "should not be enclosed in quotes" in caught.value.message


def test_long_text_not_filterable(state: SalesforceState) -> None:
    """Description, a long text area, cannot be used in WHERE."""
    with pytest.raises(SoqlError, match="can not be filtered"):
        run(state, "SELECT Id FROM Case WHERE Description = 'x'")


def test_unknown_field_and_object(state: SalesforceState) -> None:
    """Unknown fields are INVALID_FIELD and unknown objects INVALID_TYPE."""
    with pytest.raises(SoqlError) as field:
        run(state, "SELECT Id, Foo FROM Case")
    with pytest.raises(SoqlError) as entity:
        run(state, "SELECT Id FROM Widget__c")

    assert field.value.code == "INVALID_FIELD"
    assert "No such column 'Foo' on entity 'Case'" in field.value.message
    assert entity.value.code == "INVALID_TYPE"


def test_datetime_compares_instants(state: SalesforceState, user_id: str, clock: FakeClock) -> None:
    """Date-time filters compare instants, whatever the literal's offset."""
    case(state, user_id)
    clock.advance(60)
    later = case(state, user_id)

    rows = run(state, "SELECT Id FROM Case WHERE SystemModstamp > 2024-05-01T09:15:42+02:00")

    assert [row["Id"] for row in rows] == [later]


def test_order_nulls_and_direction(state: SalesforceState, user_id: str) -> None:
    """ASC puts nulls first by default; NULLS LAST and DESC are honoured."""
    empty = case(state, user_id, Subject=None)
    alpha = case(state, user_id, Subject="alpha")
    beta = case(state, user_id, Subject="Beta")

    ascending = run(state, "SELECT Id FROM Case ORDER BY Subject")
    nulls_last = run(state, "SELECT Id FROM Case ORDER BY Subject DESC NULLS LAST")

    assert [row["Id"] for row in ascending] == [empty, alpha, beta]
    assert [row["Id"] for row in nulls_last] == [beta, alpha, empty]


def test_compound_cursor_condition(state: SalesforceState, user_id: str) -> None:
    """`(stamp > t OR (stamp = t AND Id > x))` returns the rows after x, ties included."""
    ids = [case(state, user_id) for _ in range(4)]

    soql = (
        "SELECT Id FROM Case WHERE (SystemModstamp > 2024-05-01T07:15:42Z OR "  # noqa: S608 - an id literal
        f"(SystemModstamp = 2024-05-01T07:15:42Z AND Id > '{ids[1]}')) "
        "ORDER BY SystemModstamp, Id LIMIT 1"
    )

    assert [row["Id"] for row in run(state, soql)] == [ids[2]]


def test_relationship_fields(state: SalesforceState, user_id: str) -> None:
    """Relationship paths render as nested objects; a polymorphic owner reports type Name."""
    case(state, user_id)

    [row] = run(state, "SELECT CreatedBy.Name, CreatedBy.Username, Owner.Name FROM Case")

    assert row["CreatedBy"]["Name"] == "Tierbridge Integration"
    assert row["CreatedBy"]["Username"] == INTEGRATION_USERNAME
    assert row["CreatedBy"]["attributes"]["type"] == "User"
    assert row["Owner"]["attributes"]["type"] == "Name"


def test_empty_relationship_is_null(state: SalesforceState, user_id: str) -> None:
    """A relationship through an empty lookup renders as null."""
    case(state, user_id)

    [row] = run(state, "SELECT Contact.Email FROM Case")

    assert row["Contact"] is None


def test_child_subquery(state: SalesforceState, user_id: str, clock: FakeClock) -> None:
    """A CaseComments subquery returns the Case's comments, or null when it has none."""
    with_comment = case(state, user_id)
    case(state, user_id)
    for text in ("first", "second"):
        clock.advance(5)
        values = {"ParentId": with_comment, "CommentBody": text}
        state.insert("CaseComment", values, user_id=user_id)

    rows = run(
        state,
        "SELECT Id, (SELECT CommentBody FROM CaseComments ORDER BY SystemModstamp DESC LIMIT 1) "
        "FROM Case ORDER BY Id",
    )

    assert rows[0]["CaseComments"]["totalSize"] == 1
    assert rows[0]["CaseComments"]["records"][0]["CommentBody"] == "second"
    assert rows[1]["CaseComments"] is None


def test_deleted_rows_only_in_query_all(state: SalesforceState, user_id: str) -> None:
    """Deleted rows leave query results and stay in queryAll with IsDeleted true."""
    case_id = case(state, user_id)
    state.delete("Case", case_id, user_id=user_id)

    assert run(state, "SELECT Id FROM Case") == []
    [row] = run(state, "SELECT Id, IsDeleted FROM Case", deleted=True)
    assert row["IsDeleted"] is True


def test_boolean_filters(state: SalesforceState, user_id: str) -> None:
    """Booleans compare with true and false; a quoted boolean is INVALID_FIELD."""
    case(state, user_id, Status="Closed")
    case(state, user_id)

    assert len(run(state, "SELECT Id FROM Case WHERE IsClosed = true")) == 1
    assert len(run(state, "SELECT Id FROM Case WHERE IsClosed != true")) == 1
    with pytest.raises(SoqlError):
        run(state, "SELECT Id FROM Case WHERE IsClosed = 'true'")
