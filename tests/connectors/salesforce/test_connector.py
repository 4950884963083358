from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.connectors.salesforce.conftest import seed_case, seed_comment, seed_file, user_id
from tests.emulators.salesforce.support import START, FakeClock
from tierbridge.connectors.salesforce.connector import SalesforceConnector
from tierbridge.core.errors import NotFoundError, RejectedError
from tierbridge.emulators.salesforce import INTEGRATION_USERNAME, SalesforceEmulator, is_ack


def test_get_record_fields(connector: SalesforceConnector, emulator: SalesforceEmulator) -> None:
    """A read reports the Case fields, the CaseNumber key and a millisecond UTC version."""
    [contact] = emulator.state.rows("Contact")
    case_id = seed_case(
        emulator,
        Priority="High",
        Origin="Email",
        Type="Electrical",
        Reason="Breakdown",
        ContactId=contact["Id"],
        SuppliedEmail="sam.roe@example.com",
        External_Ref__c="snow:abc",
    )

    record = connector.get_record(case_id)

    assert record.id == case_id
    assert record.key == "00001001"
    assert record.version == "2024-05-01T07:15:42.000Z"
    assert record.updated == datetime(2024, 5, 1, 7, 15, 42, tzinfo=UTC)
    assert record.created == record.updated
    assert record.updated_by == user_id(emulator)
    assert dict(record.fields) == {
        "Subject": "VPN drops",
        "Description": None,
        "Status": "New",
        "Priority": "High",
        "Origin": "Email",
        "Type": "Electrical",
        "Reason": "Breakdown",
        "OwnerId": user_id(emulator),
        "ContactEmail": "casey.customer@example.com",
        "SuppliedEmail": "sam.roe@example.com",
        "IsClosed": False,
        "External_Ref__c": "snow:abc",
    }


def test_get_record_any_id_form(
    connector: SalesforceConnector, emulator: SalesforceEmulator
) -> None:
    """The 15-character id and a lower-cased 18-character id read the same Case."""
    case_id = seed_case(emulator)

    assert connector.get_record(case_id[:15]).id == case_id
    assert connector.get_record(case_id.lower()).id == case_id


@pytest.mark.parametrize("ticket_id", ["500Hs00000ZZZZZIAV", "not-an-id", "005Hs0000000H32IAE"])
def test_get_record_missing(connector: SalesforceConnector, ticket_id: str) -> None:
    """A missing Case, a malformed id or another object's id raise NotFoundError."""
    with pytest.raises(NotFoundError) as caught:
        connector.get_record(ticket_id)

    assert "get_record" in str(caught.value)


def test_deleted_case_not_found(
    connector: SalesforceConnector, emulator: SalesforceEmulator
) -> None:
    """A Case in the recycle bin reads as not found."""
    case_id = seed_case(emulator)
    emulator.state.delete("Case", case_id, user_id=user_id(emulator))

    with pytest.raises(NotFoundError):
        connector.get_record(case_id)


def test_create_read_back(connector: SalesforceConnector, emulator: SalesforceEmulator) -> None:
    """create_record writes the fields and the correlation key, tagged as our client."""
    record = connector.create_record(
        {"Subject": "Printer", "Priority": "Low", "Status": "Working", "Origin": "Web"},
        "snow:0123456789abcdef0123456789abcdef",
    )

    assert record.fields["Subject"] == "Printer"
    assert record.fields["Priority"] == "Low"
    assert record.fields["Status"] == "Working"
    assert record.fields["External_Ref__c"] == "snow:0123456789abcdef0123456789abcdef"
    assert record.updated_by == INTEGRATION_USERNAME
    assert emulator.state.client_of(record.id) == "tierbridge"


def test_update_read_back(
    connector: SalesforceConnector, emulator: SalesforceEmulator, clock: FakeClock
) -> None:
    """update_record PATCHes the fields and returns the Case as read back."""
    case_id = seed_case(emulator, Description="long text")
    clock.advance(90)

    record = connector.update_record(case_id, {"Status": "Resolved", "Description": None})

    assert record.fields["Status"] == "Resolved"
    assert record.fields["IsClosed"] is True
    assert record.fields["Description"] is None
    assert record.version == "2024-05-01T07:17:12.000Z"
    assert record.updated_by == INTEGRATION_USERNAME
    assert emulator.state.client_of(case_id) == "tierbridge"


def test_update_owner_short_id(
    connector: SalesforceConnector, emulator: SalesforceEmulator
) -> None:
    """A 15-character OwnerId is written and read back in its 18-character form."""
    case_id = seed_case(emulator)
    [queue] = emulator.state.rows("Group")

    record = connector.update_record(case_id, {"OwnerId": queue["Id"][:15]})

    assert record.fields["OwnerId"] == queue["Id"]


@pytest.mark.parametrize(
    "fields", [{"IsClosed": True}, {"ContactEmail": "x@example.com"}, {"Nope": 1}]
)
def test_unwritable_fields_rejected(
    connector: SalesforceConnector, emulator: SalesforceEmulator, fields: dict[str, object]
) -> None:
    """Read-only and unknown fields raise RejectedError before any call."""
    case_id = seed_case(emulator)

    with pytest.raises(RejectedError, match="not written by this connector"):
        connector.update_record(case_id, fields)


def test_rejected_value_names_field(
    connector: SalesforceConnector, emulator: SalesforceEmulator
) -> None:
    """A value the org refuses raises RejectedError with the code and field, not the value."""
    case_id = seed_case(emulator)

    with pytest.raises(RejectedError) as caught:
        connector.update_record(case_id, {"Priority": "Urgent-Secret-Value"})

    message = str(caught.value)
    assert caught.value.status == 400
    assert "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST" in message
    assert "Priority" in message
    assert "Urgent-Secret-Value" not in message


def test_find_by_correlation(connector: SalesforceConnector, emulator: SalesforceEmulator) -> None:
    """The Case carrying a correlation key is found; quotes and backslashes are escaped."""
    key = "snow:it's a \\ key"
    case_id = seed_case(emulator, External_Ref__c=key)
    seed_case(emulator, External_Ref__c="snow:other")

    found = connector.find_by_correlation(key)

    assert found is not None
    assert found.id == case_id
    assert connector.find_by_correlation("snow:absent") is None


def test_comments_keep_visibility(
    connector: SalesforceConnector, emulator: SalesforceEmulator, clock: FakeClock
) -> None:
    """add_comment sets IsPublished from `public`; list_comments reads both kinds in order."""
    case_id = seed_case(emulator)
    seed_comment(emulator, case_id, "From the agent", public=True)
    clock.advance(10)

    internal = connector.add_comment(case_id, "Internal note", public=False)
    clock.advance(10)
    reply = connector.add_comment(case_id, "Customer reply", public=True)
    listed = connector.list_comments(case_id)

    assert internal.public is False
    assert reply.public is True
    assert internal.author == "Tierbridge Integration"
    assert [(c.body, c.public) for c in listed] == [
        ("From the agent", True),
        ("Internal note", False),
        ("Customer reply", True),
    ]
    assert listed[0].author == "Sam Roe"
    assert listed[1].source_id == internal.source_id
    assert listed[1].created == datetime(2024, 5, 1, 7, 15, 52, tzinfo=UTC)
    published = {row["Id"]: row["IsPublished"] for row in emulator.state.rows("CaseComment")}
    assert published[internal.source_id] is False


def test_comment_too_long(connector: SalesforceConnector, emulator: SalesforceEmulator) -> None:
    """A comment over 4,000 UTF-8 bytes is refused before it is sent."""
    case_id = seed_case(emulator)

    with pytest.raises(RejectedError, match="4000"):
        connector.add_comment(case_id, "é" * 2001, public=True)

    assert emulator.state.rows("CaseComment") == []


def test_comment_moves_version(
    connector: SalesforceConnector, emulator: SalesforceEmulator, clock: FakeClock
) -> None:
    """A new comment makes the record's version the comment's SystemModstamp."""
    case_id = seed_case(emulator)
    clock.advance(300)
    seed_comment(emulator, case_id)

    record = connector.get_record(case_id)

    assert record.version == "2024-05-01T07:20:42.000Z"
    assert record.updated == datetime(2024, 5, 1, 7, 20, 42, tzinfo=UTC)


def test_file_moves_version(
    connector: SalesforceConnector, emulator: SalesforceEmulator, clock: FakeClock
) -> None:
    """A new file makes the record's version its link's SystemModstamp."""
    case_id = seed_case(emulator)
    clock.advance(300)
    seed_file(emulator, case_id)

    record = connector.get_record(case_id)

    assert record.version == "2024-05-01T07:20:42.000Z"
    assert emulator.state.get("Case", case_id)["SystemModstamp"] == START


def test_webhook_response_acks(connector: SalesforceConnector) -> None:
    """The webhook response is the SOAP acknowledgement Salesforce waits for."""
    body, content_type = connector.webhook_response([])

    assert content_type == "text/xml; charset=utf-8"
    assert is_ack(200, body)
