from __future__ import annotations

from tests.emulators.dynamics.support import Api, new_case
from tierbridge.emulators.dynamics import DynamicsEmulator

MISSING = "3f2a8c1e-5b7d-4e9f-a1c2-0d9e8f7a6b5c"


def test_patch_matching_etag(api: Api, emulator: DynamicsEmulator) -> None:
    """PATCH with the current ETag returns 204 and bumps the row version."""
    case = new_case(emulator)

    response = api.patch(
        f"incidents({case['incidentid']})",
        json={"title": "New"},
        headers={"If-Match": 'W/"4471201"'},
    )

    assert response.status_code == 204
    stored = emulator.state.require("incident", case["incidentid"])
    assert stored["title"] == "New"
    assert stored["versionnumber"] == 4471202


def test_patch_stale_etag(api: Api, emulator: DynamicsEmulator) -> None:
    """PATCH with an older ETag is a 412 and changes nothing."""
    case = new_case(emulator)
    emulator.state.update(
        "incident", case["incidentid"], {"title": "Changed"}, user_id=emulator.state.seed.agent_user
    )

    response = api.patch(
        f"incidents({case['incidentid']})",
        json={"title": "Ours"},
        headers={"If-Match": 'W/"4471201"'},
    )

    assert response.status_code == 412
    assert response.json()["error"]["code"] == ""
    assert emulator.state.require("incident", case["incidentid"])["title"] == "Changed"


def test_patch_star_missing(api: Api, emulator: DynamicsEmulator) -> None:
    """With If-Match: * a PATCH to a missing id is a 404 and creates nothing."""
    response = api.patch(f"incidents({MISSING})", json={"title": "X"}, headers={"If-Match": "*"})

    assert response.status_code == 404
    assert emulator.state.get("incident", MISSING) is None


def test_patch_without_if_match_upserts(api: Api, emulator: DynamicsEmulator) -> None:
    """Without If-Match a PATCH to a missing id creates the row, as Dataverse does."""
    body = {
        "title": "X",
        "customerid_account@odata.bind": f"/accounts({emulator.state.seed.account})",
    }

    response = api.patch(f"incidents({MISSING})", json=body)

    assert response.status_code == 204
    assert emulator.state.require("incident", MISSING)["title"] == "X"


def test_patch_if_none_match_existing(api: Api, emulator: DynamicsEmulator) -> None:
    """If-None-Match: * makes PATCH create-only: an existing row gives 412."""
    case = new_case(emulator)

    response = api.patch(
        f"incidents({case['incidentid']})", json={"title": "X"}, headers={"If-None-Match": "*"}
    )

    assert response.status_code == 412


def test_patch_representation(api: Api, emulator: DynamicsEmulator) -> None:
    """return=representation returns 200 with the row and its new ETag."""
    case = new_case(emulator)

    response = api.patch(
        f"incidents({case['incidentid']})?$select=title",
        json={"title": "New"},
        headers={"If-Match": "*", "Prefer": "return=representation"},
    )

    assert response.status_code == 200
    assert response.json()["@odata.etag"] == 'W/"4471202"'
    assert response.json()["title"] == "New"


def test_patch_read_only_column(api: Api, emulator: DynamicsEmulator) -> None:
    """ticketnumber is system-generated: a PATCH writing it is a 400."""
    case = new_case(emulator)

    response = api.patch(
        f"incidents({case['incidentid']})", json={"ticketnumber": "X"}, headers={"If-Match": "*"}
    )

    assert response.status_code == 400


def test_bind_owner_team(api: Api, emulator: DynamicsEmulator) -> None:
    """ownerid@odata.bind assigns the case to a team."""
    case = new_case(emulator)
    team = emulator.state.seed.team

    response = api.patch(
        f"incidents({case['incidentid']})",
        json={"ownerid@odata.bind": f"/teams({team})"},
        headers={"If-Match": "*"},
    )

    assert response.status_code == 204
    assert emulator.state.require("incident", case["incidentid"])["ownerid"].table == "team"


def test_bind_wrong_table(api: Api, emulator: DynamicsEmulator) -> None:
    """A bind path to a table the lookup cannot point to is a 400."""
    case = new_case(emulator)
    contact = emulator.state.seed.contact

    response = api.patch(
        f"incidents({case['incidentid']})",
        json={"ownerid@odata.bind": f"/contacts({contact})"},
        headers={"If-Match": "*"},
    )

    assert response.status_code == 400
