from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import HTTPException

from tests.emulators.salesforce.support import FakeClock
from tierbridge.emulators.salesforce import (
    AGENT_USERNAME,
    INTEGRATION_USERNAME,
    ChangeEvent,
    SalesforceState,
)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def state(clock: FakeClock) -> SalesforceState:
    return SalesforceState(clock=clock)


def user(state: SalesforceState, username: str = INTEGRATION_USERNAME) -> str:
    found = state.user_by_username(username)
    assert found is not None
    return str(found["Id"])


def errors(exc: pytest.ExceptionInfo[HTTPException]) -> list[dict[str, Any]]:
    detail: list[dict[str, Any]] = exc.value.detail  # type: ignore[assignment]
    return detail


def test_case_defaults(state: SalesforceState) -> None:
    """A new Case gets New, Medium, the creator as owner, a CaseNumber and stamps."""
    created = state.insert("Case", {"Subject": "VPN"}, user_id=user(state))

    assert created["Status"] == "New"
    assert created["Priority"] == "Medium"
    assert created["OwnerId"] == user(state)
    assert created["CaseNumber"] == "00001001"
    assert created["IsClosed"] is False
    assert created["SystemModstamp"] == datetime(2024, 5, 1, 7, 15, 42, tzinfo=UTC)
    assert created["CreatedById"] == user(state)


def test_case_numbers_count_up(state: SalesforceState) -> None:
    """CaseNumbers are eight-digit strings counting up."""
    numbers = [state.insert("Case", {}, user_id=user(state))["CaseNumber"] for _ in range(3)]

    assert numbers == ["00001001", "00001002", "00001003"]


def test_closed_status_derives_fields(state: SalesforceState, clock: FakeClock) -> None:
    """A closed status sets IsClosed and ClosedDate; reopening clears both."""
    case_id = state.insert("Case", {}, user_id=user(state))["Id"]
    clock.advance(60)

    closed = state.update("Case", case_id, {"Status": "Resolved"}, user_id=user(state))
    reopened = state.update("Case", case_id, {"Status": "Working"}, user_id=user(state))

    assert closed["IsClosed"] is True
    assert closed["ClosedDate"] == clock.now
    assert reopened["IsClosed"] is False
    assert reopened["ClosedDate"] is None


def test_contact_email_derived(state: SalesforceState) -> None:
    """ContactEmail follows the Case's Contact and cannot be written."""
    [contact] = state.rows("Contact")
    created = state.insert("Case", {"ContactId": contact["Id"]}, user_id=user(state))

    assert created["ContactEmail"] == "casey.customer@example.com"
    with pytest.raises(HTTPException) as caught:
        state.update("Case", created["Id"], {"ContactEmail": "x@example.com"}, user_id=user(state))
    assert errors(caught)[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"


def test_bad_values_each_reported(state: SalesforceState) -> None:
    """Each bad field adds one error: picklist, length, e-mail, reference, unknown field."""
    values = {
        "Priority": "Urgent",
        "Subject": "x" * 256,
        "SuppliedEmail": "not-an-address",
        "OwnerId": "500Hs00001XyZaBIAV",
        "Nope__c": "1",
    }

    with pytest.raises(HTTPException) as caught:
        state.insert("Case", values, user_id=user(state))

    assert caught.value.status_code == 400
    codes = {entry["errorCode"]: entry["fields"] for entry in errors(caught)}
    assert codes == {
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST": ["Priority"],
        "STRING_TOO_LONG": ["Subject"],
        "INVALID_EMAIL_ADDRESS": ["SuppliedEmail"],
        "FIELD_INTEGRITY_EXCEPTION": ["OwnerId"],
        "INVALID_FIELD": ["Nope__c"],
    }


def test_owner_may_be_queue(state: SalesforceState) -> None:
    """OwnerId accepts a queue id, given in its 15-character form."""
    [queue] = state.rows("Group")

    created = state.insert("Case", {"OwnerId": queue["Id"][:15]}, user_id=user(state))

    assert created["OwnerId"] == queue["Id"]


def test_comment_leaves_case_untouched(state: SalesforceState, clock: FakeClock) -> None:
    """A CaseComment does not move its Case's SystemModstamp."""
    case = state.insert("Case", {}, user_id=user(state))
    clock.advance(60)

    comment = state.insert(
        "CaseComment", {"ParentId": case["Id"], "CommentBody": "hi"}, user_id=user(state)
    )

    assert comment["IsPublished"] is False
    assert state.get("Case", case["Id"])["SystemModstamp"] == case["SystemModstamp"]


def test_comment_limits(state: SalesforceState) -> None:
    """CommentBody is limited to 4,000 bytes and ParentId is required."""
    case_id = state.insert("Case", {}, user_id=user(state))["Id"]

    with pytest.raises(HTTPException) as too_long:
        state.insert(
            "CaseComment", {"ParentId": case_id, "CommentBody": "é" * 2001}, user_id=user(state)
        )
    with pytest.raises(HTTPException) as orphan:
        state.insert("CaseComment", {"CommentBody": "x"}, user_id=user(state))

    assert errors(too_long)[0]["errorCode"] == "STRING_TOO_LONG"
    assert errors(orphan)[0]["errorCode"] == "REQUIRED_FIELD_MISSING"


def test_listeners_get_changes(state: SalesforceState) -> None:
    """Listeners see inserts, updates with changed fields, deletes, and the caller's client."""
    events: list[ChangeEvent] = []
    state.listeners.append(events.append)
    agent = user(state, AGENT_USERNAME)

    case_id = state.insert("Case", {"Subject": "a"}, user_id=agent, client="tierbridge")["Id"]
    state.update("Case", case_id, {"Priority": "High"}, user_id=agent)
    state.delete("Case", case_id, user_id=agent)

    assert [event.operation for event in events] == ["insert", "update", "delete"]
    assert events[0].client == "tierbridge"
    assert events[1].changed == ("Priority",)
    assert state.client_of(case_id) is None


def test_deleted_case_gone(state: SalesforceState) -> None:
    """Updating a deleted Case returns 404 ENTITY_IS_DELETED."""
    case_id = state.insert("Case", {}, user_id=user(state))["Id"]
    state.delete("Case", case_id, user_id=user(state))

    with pytest.raises(HTTPException) as caught:
        state.update("Case", case_id, {"Subject": "x"}, user_id=user(state))

    assert caught.value.status_code == 404
    assert errors(caught)[0]["errorCode"] == "ENTITY_IS_DELETED"


def test_unmodified_since_guard(state: SalesforceState, clock: FakeClock) -> None:
    """If-Unmodified-Since earlier than the last change fails with 412."""
    case = state.insert("Case", {}, user_id=user(state))
    clock.advance(60)
    state.update("Case", case["Id"], {"Subject": "b"}, user_id=user(state))

    with pytest.raises(HTTPException) as caught:
        state.update(
            "Case",
            case["Id"],
            {"Subject": "c"},
            user_id=user(state),
            unmodified_since=case["LastModifiedDate"],
        )

    assert caught.value.status_code == 412


def test_reset_restores_seed(state: SalesforceState) -> None:
    """reset drops records and numbering but keeps seeded users, queue, contact and statuses."""
    state.insert("Case", {}, user_id=user(state))

    state.reset()

    assert state.rows("Case") == []
    assert len(state.rows("User")) == 2
    assert [row["ApiName"] for row in state.rows("CaseStatus")][:2] == ["New", "Working"]
    assert state.insert("Case", {}, user_id=user(state))["CaseNumber"] == "00001001"
