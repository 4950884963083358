from __future__ import annotations

from datetime import date

from tests.emulators.dynamics.support import Api, new_case
from tierbridge.emulators.dynamics import DynamicsEmulator

ANNOTATED = {"Prefer": 'odata.include-annotations="*"'}
REPRESENTATION = {"Prefer": "return=representation"}


def _customer(emulator: DynamicsEmulator) -> dict[str, str]:
    return {"customerid_account@odata.bind": f"/accounts({emulator.state.seed.account})"}


def test_create_entity_id(api: Api, emulator: DynamicsEmulator) -> None:
    """POST returns 204 with OData-EntityId naming the new case."""
    response = api.post("incidents", json={"title": "VPN", **_customer(emulator)})

    assert response.status_code == 204
    entity_id = response.headers["OData-EntityId"]
    case_id = entity_id.rsplit("(", 1)[1].rstrip(")")
    assert entity_id == f"{emulator.base_url}/api/data/v9.2/incidents({case_id})"
    assert emulator.state.require("incident", case_id)["title"] == "VPN"


def test_create_representation(api: Api, emulator: DynamicsEmulator) -> None:
    """With return=representation POST returns 201 with the stored case and its defaults."""
    body = {"title": "VPN", "prioritycode": 1, **_customer(emulator)}

    response = api.post(
        "incidents?$select=title,ticketnumber,statuscode,prioritycode",
        json=body,
        headers=REPRESENTATION,
    )

    assert response.status_code == 201
    assert response.headers["Preference-Applied"] == "return=representation"
    case = response.json()
    assert case["@odata.etag"] == 'W/"4471201"'
    assert case["ticketnumber"].startswith("CAS-01001-")
    assert case["statuscode"] == 1
    assert case["prioritycode"] == 1
    assert set(case) == {
        "@odata.context",
        "@odata.etag",
        "incidentid",
        "title",
        "ticketnumber",
        "statuscode",
        "prioritycode",
    }


def test_create_needs_customer(api: Api) -> None:
    """A case without a customer is refused with 400 and the error body."""
    response = api.post("incidents", json={"title": "VPN"})

    assert response.status_code == 400
    assert response.json()["error"]["message"] == "You should specify a parent contact or account."


def test_unknown_property(api: Api, emulator: DynamicsEmulator) -> None:
    """An undeclared property is a 400 naming it."""
    response = api.post("incidents", json={"short_description": "VPN", **_customer(emulator)})

    assert response.status_code == 400
    assert "'short_description' does not exist" in response.json()["error"]["message"]


def test_bad_option_value(api: Api, emulator: DynamicsEmulator) -> None:
    """An option value outside the option set is a 400."""
    response = api.post("incidents", json={"prioritycode": 9, **_customer(emulator)})

    assert response.status_code == 400
    assert "outside the valid range" in response.json()["error"]["message"]


def test_date_only_column(api: Api, emulator: DynamicsEmulator) -> None:
    """A date-only column stores a plain date and refuses a date-time."""
    good = api.post(
        "incidents",
        json={"new_duedate": "2024-05-03", **_customer(emulator)},
        headers=REPRESENTATION,
    )
    bad = api.post("incidents", json={"new_duedate": "2024-05-03T00:00:00Z", **_customer(emulator)})

    assert good.status_code == 201
    assert good.json()["new_duedate"] == "2024-05-03"
    assert emulator.state.require("incident", good.json()["incidentid"])["new_duedate"] == date(
        2024, 5, 3
    )
    assert bad.status_code == 400
    assert "Edm.Date" in bad.json()["error"]["message"]


def test_get_plain_values(api: Api, emulator: DynamicsEmulator) -> None:
    """Without a Prefer header a read has values and the ETag, but no annotations."""
    case = new_case(emulator, prioritycode=1)

    response = api.get(
        f"incidents({case['incidentid']})?$select=prioritycode,_customerid_value,modifiedon"
    )

    assert response.status_code == 200
    assert response.headers["ETag"] == 'W/"4471201"'
    assert response.json()["prioritycode"] == 1
    assert response.json()["_customerid_value"] == emulator.state.seed.account
    assert response.json()["modifiedon"] == "2024-05-01T07:15:42Z"
    assert not any("@OData" in key or "@Microsoft" in key for key in response.json())


def test_get_annotations(api: Api, emulator: DynamicsEmulator) -> None:
    """include-annotations adds labels and the lookup's table and navigation property."""
    case = new_case(emulator, prioritycode=1)

    response = api.get(
        f"incidents({case['incidentid']})?$select=prioritycode,_customerid_value", headers=ANNOTATED
    )

    body = response.json()
    assert body["prioritycode@OData.Community.Display.V1.FormattedValue"] == "High"
    assert body["_customerid_value@OData.Community.Display.V1.FormattedValue"] == "Example Corp"
    assert body["_customerid_value@Microsoft.Dynamics.CRM.lookuplogicalname"] == "account"
    assert (
        body["_customerid_value@Microsoft.Dynamics.CRM.associatednavigationproperty"]
        == "customerid_account"
    )


def test_get_expand(api: Api, emulator: DynamicsEmulator) -> None:
    """$expand reads single-valued navigation properties; the other owner kind is null."""
    case = new_case(emulator)
    path = f"incidents({case['incidentid']})?$select=title&$expand=owninguser($select=internalemailaddress),owningteam($select=name)"

    body = api.get(path).json()

    assert body["owninguser"]["internalemailaddress"] == "agent.l2@example.com"
    assert body["owningteam"] is None


def test_get_missing(api: Api) -> None:
    """A missing case is a 404 with the ObjectDoesNotExist code."""
    response = api.get("incidents(3f2a8c1e-5b7d-4e9f-a1c2-0d9e8f7a6b5c)")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "0x80040217"


def test_get_not_a_guid(api: Api) -> None:
    """A key that is not a GUID is a 400."""
    assert api.get("incidents(CAS-01001)").status_code == 400


def test_unknown_segment(api: Api) -> None:
    """An unknown entity set is a 404 naming the segment."""
    response = api.get("tickets")

    assert response.status_code == 404
    assert "'tickets'" in response.json()["error"]["message"]


def test_if_none_match_unchanged(api: Api, emulator: DynamicsEmulator) -> None:
    """If-None-Match with the current ETag gives 304 unless annotations are asked for."""
    case = new_case(emulator)
    path = f"incidents({case['incidentid']})"

    plain = api.get(path, headers={"If-None-Match": 'W/"4471201"'})
    annotated = api.get(path, headers={"If-None-Match": 'W/"4471201"', **ANNOTATED})

    assert plain.status_code == 304
    assert annotated.status_code == 200
