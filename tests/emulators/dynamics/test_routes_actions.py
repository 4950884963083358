from __future__ import annotations

from typing import Any

import pytest

from tests.emulators.dynamics.support import Api, new_case
from tierbridge.emulators.dynamics import DynamicsEmulator

STAR = {"If-Match": "*"}
STATUS_METADATA = "EntityDefinitions(LogicalName='incident')/Attributes/Microsoft.Dynamics.CRM.StatusAttributeMetadata"


def _close(api: Api, case_id: str, status: int = 5, **resolution: Any) -> Any:
    body = {
        "IncidentResolution": {
            "@odata.type": "Microsoft.Dynamics.CRM.incidentresolution",
            "subject": "Resolved via sync",
            "incidentid@odata.bind": f"/incidents({case_id})",
            **resolution,
        },
        "Status": status,
    }
    return api.post("CloseIncident", json=body)


def test_close_incident(api: Api, emulator: DynamicsEmulator) -> None:
    """CloseIncident resolves the case and stores the resolution activity."""
    case = new_case(emulator)

    response = _close(api, case["incidentid"], 1000, description="Client cert re-issued.")

    assert response.status_code == 204
    stored = emulator.state.require("incident", case["incidentid"])
    assert (stored["statecode"], stored["statuscode"]) == (1, 1000)
    [resolution] = emulator.state.rows("incidentresolution")
    assert resolution["description"] == "Client cert re-issued."
    assert resolution["incidentid"].id == case["incidentid"]


def test_close_default_status(api: Api, emulator: DynamicsEmulator) -> None:
    """Status -1 lets the system pick the default Resolved status reason, 5."""
    case = new_case(emulator)

    assert _close(api, case["incidentid"], -1).status_code == 204
    assert emulator.state.require("incident", case["incidentid"])["statuscode"] == 5


@pytest.mark.parametrize("status", [1, 6, 42])
def test_close_wrong_status(api: Api, emulator: DynamicsEmulator, status: int) -> None:
    """A Status that is not a Resolved status reason is a 400."""
    case = new_case(emulator)

    assert _close(api, case["incidentid"], status).status_code == 400


def test_close_twice(api: Api, emulator: DynamicsEmulator) -> None:
    """A resolved case cannot be resolved again until it is reactivated."""
    case = new_case(emulator)
    _close(api, case["incidentid"])

    response = _close(api, case["incidentid"])

    assert response.status_code == 400
    assert "already resolved" in response.json()["error"]["message"]


def test_patch_resolved_state_refused(api: Api, emulator: DynamicsEmulator) -> None:
    """Setting statecode 1 by PATCH is refused: resolving needs CloseIncident."""
    case = new_case(emulator)

    response = api.patch(
        f"incidents({case['incidentid']})", json={"statecode": 1, "statuscode": 5}, headers=STAR
    )

    assert response.status_code == 400
    assert "CloseIncidentRequest" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    "body",
    [
        {"statecode": 0, "statuscode": 6},
        {"statuscode": 5},
        {"statecode": 2, "statuscode": 1},
        {"statuscode": 77},
    ],
)
def test_patch_wrong_pair(api: Api, emulator: DynamicsEmulator, body: dict[str, int]) -> None:
    """A status reason that does not belong to the state is a 400."""
    case = new_case(emulator)

    response = api.patch(f"incidents({case['incidentid']})", json=body, headers=STAR)

    assert response.status_code == 400


def test_cancel_and_reactivate(api: Api, emulator: DynamicsEmulator) -> None:
    """A cancelled case is read-only until a PATCH reactivates it."""
    case = new_case(emulator)
    path = f"incidents({case['incidentid']})"

    cancel = api.patch(path, json={"statecode": 2, "statuscode": 6}, headers=STAR)
    edit = api.patch(path, json={"title": "x"}, headers=STAR)
    reactivate = api.patch(path, json={"statecode": 0}, headers=STAR)

    assert cancel.status_code == 204
    assert edit.status_code == 400
    assert reactivate.status_code == 204
    stored = emulator.state.require("incident", case["incidentid"])
    assert (stored["statecode"], stored["statuscode"]) == (0, 1)


def test_status_metadata(api: Api) -> None:
    """The StatusAttributeMetadata lists each status reason with its state and label."""
    response = api.get(STATUS_METADATA + "?$expand=OptionSet")

    [attribute] = response.json()["value"]
    options = {
        o["Value"]: (o["State"], o["Label"]["UserLocalizedLabel"]["Label"])
        for o in attribute["OptionSet"]["Options"]
    }
    assert attribute["LogicalName"] == "statuscode"
    assert options[1] == (0, "In Progress")
    assert options[1000] == (1, "Information Provided")
    assert options[2000] == (2, "Merged")
    assert len(options) == 8


def test_status_metadata_single(api: Api) -> None:
    """The single-attribute form returns the attribute itself, without a value list."""
    path = "EntityDefinitions(LogicalName='incident')/Attributes(LogicalName='statuscode')/Microsoft.Dynamics.CRM.StatusAttributeMetadata"

    body = api.get(path + "?$expand=OptionSet").json()

    assert body["LogicalName"] == "statuscode"
    assert len(body["OptionSet"]["Options"]) == 8


def test_who_am_i(api: Api, agent_api: Api, emulator: DynamicsEmulator) -> None:
    """WhoAmI names the application user each client acts as."""
    assert api.get("WhoAmI").json()["UserId"] == emulator.state.seed.integration_user
    assert agent_api.get("WhoAmI").json()["UserId"] == emulator.state.seed.agent_user


def test_close_incident_get_not_allowed(api: Api) -> None:
    """CloseIncident is an action: a GET is a 405."""
    assert api.get("CloseIncident").status_code == 405
