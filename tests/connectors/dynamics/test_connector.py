from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from tests.connectors.dynamics.conftest import MakeSettings
from tests.emulators.dynamics.support import FakeClock, new_case
from tierbridge.connectors.dynamics.connector import DynamicsConnector
from tierbridge.core.errors import NotFoundError, RejectedError
from tierbridge.emulators.dynamics import DynamicsEmulator
from tierbridge.emulators.dynamics.values import Ref


def _seed(emulator: DynamicsEmulator, clock: FakeClock, count: int) -> list[dict[str, Any]]:
    cases = []
    for index in range(count):
        cases.append(new_case(emulator, title=f"Case {index}"))
        clock.advance(60)
    return cases


def test_get_record_fields(connector: DynamicsConnector, emulator: DynamicsEmulator) -> None:
    """A read gives ids, a padded version, integer choices and readable lookups."""
    case = new_case(emulator, prioritycode=1, caseorigincode=2, new_externalref="snow:abc")

    record = connector.get_record(case["incidentid"])

    assert record.id == case["incidentid"]
    assert record.key == case["ticketnumber"]
    assert record.version == "00000000000004471201"
    assert record.updated == datetime(2024, 5, 1, 7, 15, 42, tzinfo=UTC)
    assert record.updated_by == emulator.state.seed.agent_user
    assert record.fields["statecode"] == 0
    assert record.fields["statuscode"] == 1
    assert record.fields["prioritycode"] == 1
    assert record.fields["caseorigincode"] == 2
    assert record.fields["customerid"] == "support@example.com"
    assert record.fields["ownerid"] == "agent.l2@example.com"
    assert record.fields["new_externalref"] == "snow:abc"
    assert record.fields["description"] is None


def test_get_record_team_owner(connector: DynamicsConnector, emulator: DynamicsEmulator) -> None:
    """A team-owned case reads its owner as the team's name."""
    case = new_case(emulator, ownerid=Ref("team", emulator.state.seed.team))

    assert connector.get_record(case["incidentid"]).fields["ownerid"] == "Outsourced L2"


def test_get_record_missing(connector: DynamicsConnector) -> None:
    """A missing case raises NotFoundError naming the row."""
    with pytest.raises(NotFoundError) as caught:
        connector.get_record("3f2a8c1e-5b7d-4e9f-a1c2-0d9e8f7a6b5c")

    assert caught.value.status == 404
    assert caught.value.record == "incidents(3f2a8c1e-5b7d-4e9f-a1c2-0d9e8f7a6b5c)"


def test_changed_since_all_pages(
    connector: DynamicsConnector, emulator: DynamicsEmulator, clock: FakeClock
) -> None:
    """changed_since(None) follows next links (page size 2) and yields oldest first."""
    _seed(emulator, clock, 5)

    titles = [record.fields["title"] for record in connector.changed_since(None)]

    assert titles == [f"Case {index}" for index in range(5)]


def test_changed_since_watermark(
    connector: DynamicsConnector, emulator: DynamicsEmulator, clock: FakeClock
) -> None:
    """changed_since reads modifiedon at or after the watermark, given in any zone."""
    _seed(emulator, clock, 3)
    since = datetime(2024, 5, 1, 9, 16, 42, tzinfo=timezone(timedelta(hours=2)))

    titles = [record.fields["title"] for record in connector.changed_since(since)]

    assert titles == ["Case 1", "Case 2"]


def test_find_by_correlation(connector: DynamicsConnector, emulator: DynamicsEmulator) -> None:
    """find_by_correlation matches the correlation column, quotes included."""
    new_case(emulator, new_externalref="snow:o'brien")

    found = connector.find_by_correlation("snow:o'brien")

    assert found is not None
    assert found.fields["new_externalref"] == "snow:o'brien"
    assert connector.find_by_correlation("snow:other") is None


def test_create_read_back(connector: DynamicsConnector, emulator: DynamicsEmulator) -> None:
    """create_record writes fields, the correlation id and the default customer."""
    fields = {
        "title": "VPN",
        "description": "Error E-809.",
        "prioritycode": "1",
        "new_duedate": date(2024, 5, 3),
    }

    record = connector.create_record(fields, "snow:abc")

    stored = emulator.state.require("incident", record.id)
    assert stored["prioritycode"] == 1
    assert stored["new_externalref"] == "snow:abc"
    assert stored["new_duedate"] == date(2024, 5, 3)
    assert stored["customerid"] == Ref("account", emulator.state.seed.account)
    assert stored["ownerid"] == Ref("systemuser", emulator.state.seed.integration_user)
    assert record.fields["title"] == "VPN"
    assert record.fields["new_duedate"] == date(2024, 5, 3)
    assert record.key == stored["ticketnumber"]


def test_create_customer_by_email(connector: DynamicsConnector, emulator: DynamicsEmulator) -> None:
    """A customer given by e-mail address binds the matching contact."""
    record = connector.create_record(
        {"title": "VPN", "customerid": "casey.customer@example.com"}, "k"
    )

    stored = emulator.state.require("incident", record.id)
    assert stored["customerid"] == Ref("contact", emulator.state.seed.contact)
    assert record.fields["customerid"] == "casey.customer@example.com"


def test_create_without_customer(make_settings: MakeSettings) -> None:
    """Without default_customer or a mapped customer a create is refused before any call."""
    dynamics = DynamicsConnector("dyn", make_settings(default_customer=None))

    with pytest.raises(RejectedError, match="default_customer"):
        dynamics.create_record({"title": "VPN"}, "k")
    dynamics.close()


def test_create_in_non_active_status(
    connector: DynamicsConnector, emulator: DynamicsEmulator
) -> None:
    """A case created as resolved is created active, then closed."""
    record = connector.create_record({"title": "VPN", "statuscode": "5"}, "k")

    assert (record.fields["statecode"], record.fields["statuscode"]) == (1, 5)


def test_update_fields(connector: DynamicsConnector, emulator: DynamicsEmulator) -> None:
    """update_record writes plain fields and an owner, and returns the read-back."""
    case = new_case(emulator)

    record = connector.update_record(
        case["incidentid"], {"title": "New", "prioritycode": "3", "ownerid": "Outsourced L2"}
    )

    assert record.fields["title"] == "New"
    assert record.fields["prioritycode"] == 3
    assert record.fields["ownerid"] == "Outsourced L2"
    assert record.version == "00000000000004471202"


def test_update_unknown_field(connector: DynamicsConnector, emulator: DynamicsEmulator) -> None:
    """A field the connector does not write is refused, listing the writable ones."""
    case = new_case(emulator)

    with pytest.raises(RejectedError, match="writable"):
        connector.update_record(case["incidentid"], {"short_description": "x"})


def test_update_date_only_needs_date(
    connector: DynamicsConnector, emulator: DynamicsEmulator
) -> None:
    """A date-time for a date-only column is refused instead of being cut."""
    case = new_case(emulator)

    with pytest.raises(RejectedError, match="date-only"):
        connector.update_record(
            case["incidentid"], {"new_duedate": datetime(2024, 5, 3, tzinfo=UTC)}
        )


def test_update_stale_etag(
    connector: DynamicsConnector, emulator: DynamicsEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A change between the read and the PATCH gives 412, raised as RejectedError."""
    case = new_case(emulator)
    read = connector._read_row

    def read_then_someone_edits(ticket_id: str, operation: str) -> dict[str, Any]:
        row = read(ticket_id, operation)
        emulator.state.update(
            "incident", ticket_id, {"title": "Theirs"}, user_id=emulator.state.seed.agent_user
        )
        return row

    monkeypatch.setattr(connector, "_read_row", read_then_someone_edits)

    with pytest.raises(RejectedError) as caught:
        connector.update_record(case["incidentid"], {"title": "Ours"})

    assert caught.value.status == 412
    assert "read it again" in str(caught.value)
    assert emulator.state.require("incident", case["incidentid"])["title"] == "Theirs"
