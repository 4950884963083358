"""DynamicsConnector status writes: CloseIncident, cancel, reactivate and pair checks."""

from __future__ import annotations

import pytest

from tests.emulators.dynamics.support import new_case
from tierbridge.connectors.dynamics.connector import DynamicsConnector
from tierbridge.core.errors import RejectedError
from tierbridge.emulators.dynamics import DynamicsEmulator
from tierbridge.emulators.dynamics.values import Ref


def _resolve(emulator: DynamicsEmulator, case_id: str, status: int = 5) -> None:
    resolution = {"subject": "Done", "incidentid": Ref("incident", case_id)}
    emulator.state.close_incident(resolution, status, user_id=emulator.state.seed.agent_user)


def test_resolve_through_close_incident(
    connector: DynamicsConnector, emulator: DynamicsEmulator
) -> None:
    """A Resolved status reason is set by CloseIncident and reads back resolved."""
    case = new_case(emulator)

    record = connector.update_record(case["incidentid"], {"statuscode": "1000", "title": "Fixed"})

    assert (record.fields["statecode"], record.fields["statuscode"]) == (1, 1000)
    assert record.fields["title"] == "Fixed"
    [resolution] = emulator.state.rows("incidentresolution")
    assert resolution["subject"] == "Resolved by tierbridge"
    assert resolution["incidentid"] == Ref("incident", case["incidentid"])


def test_resolved_to_other_resolved(
    connector: DynamicsConnector, emulator: DynamicsEmulator
) -> None:
    """Another Resolved status reason reactivates the case and closes it again."""
    case = new_case(emulator)
    _resolve(emulator, case["incidentid"], 5)

    record = connector.update_record(case["incidentid"], {"statuscode": "1000"})

    assert record.fields["statuscode"] == 1000
    assert len(emulator.state.rows("incidentresolution")) == 2


def test_cancel(connector: DynamicsConnector, emulator: DynamicsEmulator) -> None:
    """A Canceled status reason sets statecode 2 by update."""
    case = new_case(emulator)

    record = connector.update_record(case["incidentid"], {"statuscode": "6"})

    assert (record.fields["statecode"], record.fields["statuscode"]) == (2, 6)
    assert emulator.state.rows("incidentresolution") == []


def test_reactivate_with_fields(connector: DynamicsConnector, emulator: DynamicsEmulator) -> None:
    """An Active status reason reopens a resolved case, then writes the other fields."""
    case = new_case(emulator)
    _resolve(emulator, case["incidentid"])

    record = connector.update_record(case["incidentid"], {"statuscode": "3", "title": "Reopened"})

    assert (record.fields["statecode"], record.fields["statuscode"]) == (0, 3)
    assert record.fields["title"] == "Reopened"


def test_active_sub_status(connector: DynamicsConnector, emulator: DynamicsEmulator) -> None:
    """An Active status reason on an active case is one update."""
    case = new_case(emulator)

    record = connector.update_record(case["incidentid"], {"statuscode": "2"})

    assert (record.fields["statecode"], record.fields["statuscode"]) == (0, 2)
    assert record.version == "00000000000004471202"


def test_resolved_case_read_only(connector: DynamicsConnector, emulator: DynamicsEmulator) -> None:
    """Changing fields of a case that stays resolved is refused with the way out."""
    case = new_case(emulator)
    _resolve(emulator, case["incidentid"])

    with pytest.raises(RejectedError, match="reactivate"):
        connector.update_record(case["incidentid"], {"title": "x"})


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"statecode": "0", "statuscode": "5"}, "does not belong to statecode 0"),
        ({"statuscode": "77"}, "not a status reason"),
        ({"statecode": "9"}, "no status reasons"),
        ({"statuscode": "high"}, "not a number"),
    ],
)
def test_pair_validation(
    connector: DynamicsConnector, emulator: DynamicsEmulator, fields: dict[str, str], problem: str
) -> None:
    """statecode/statuscode pairs are checked against the metadata before any write."""
    case = new_case(emulator)

    with pytest.raises(RejectedError) as caught:
        connector.update_record(case["incidentid"], fields)

    assert problem in str(caught.value)
    assert "1 Resolved: 5 Problem Solved, 1000 Information Provided" in str(caught.value)
    assert emulator.state.require("incident", case["incidentid"])["versionnumber"] == 4471201


def test_state_alone(connector: DynamicsConnector, emulator: DynamicsEmulator) -> None:
    """A statecode alone takes that state's first status reason."""
    case = new_case(emulator)

    record = connector.update_record(case["incidentid"], {"statecode": "2"})

    assert (record.fields["statecode"], record.fields["statuscode"]) == (2, 6)


def test_same_status_no_write(connector: DynamicsConnector, emulator: DynamicsEmulator) -> None:
    """Writing the status a resolved case already has changes nothing."""
    case = new_case(emulator)
    _resolve(emulator, case["incidentid"])

    record = connector.update_record(case["incidentid"], {"statuscode": "5"})

    assert record.version == "00000000000004471203"
