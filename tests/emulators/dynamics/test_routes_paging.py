from __future__ import annotations

from typing import Any

from tests.emulators.dynamics.support import Api, FakeClock, new_case
from tierbridge.emulators.dynamics import DynamicsEmulator

PAGE_OF_TWO = {"Prefer": "odata.maxpagesize=2"}
QUERY = "incidents?$select=title&$orderby=modifiedon asc,incidentid asc"


def _seed(emulator: DynamicsEmulator, clock: FakeClock, count: int) -> list[dict[str, Any]]:
    cases = []
    for index in range(count):
        cases.append(new_case(emulator, title=f"Case {index}"))
        clock.advance(60)
    return cases


def _titles(body: dict[str, Any]) -> list[str]:
    return [row["title"] for row in body["value"]]


def test_maxpagesize_pages(api: Api, emulator: DynamicsEmulator, clock: FakeClock) -> None:
    """odata.maxpagesize cuts pages and links each to the next until the last."""
    _seed(emulator, clock, 5)

    first = api.get(QUERY, headers=PAGE_OF_TWO)
    second = api.get(first.json()["@odata.nextLink"], headers=PAGE_OF_TWO)
    third = api.get(second.json()["@odata.nextLink"], headers=PAGE_OF_TWO)

    assert first.headers["Preference-Applied"] == "odata.maxpagesize=2"
    assert _titles(first.json()) == ["Case 0", "Case 1"]
    assert _titles(second.json()) == ["Case 2", "Case 3"]
    assert _titles(third.json()) == ["Case 4"]
    assert "@odata.nextLink" not in third.json()


def test_next_link_keeps_options(api: Api, emulator: DynamicsEmulator, clock: FakeClock) -> None:
    """The next link repeats $select, $filter and $orderby and adds a $skiptoken cookie."""
    _seed(emulator, clock, 3)

    link = api.get(QUERY + "&$filter=contains(title,'case')", headers=PAGE_OF_TWO).json()[
        "@odata.nextLink"
    ]

    assert link.startswith(f"{emulator.base_url}/api/data/v9.2/incidents?")
    assert "$select=title" in link
    assert "contains(title,'case')" in link
    assert "$skiptoken=%3Ccookie%20pagenumber%3D%222%22" in link


def test_rows_changed_between_pages(api: Api, emulator: DynamicsEmulator, clock: FakeClock) -> None:
    """A row updated between pages moves to the end and is read once, on a later page."""
    cases = _seed(emulator, clock, 4)
    first = api.get(QUERY, headers=PAGE_OF_TWO).json()
    emulator.state.update(
        "incident",
        cases[0]["incidentid"],
        {"title": "Case 0 again"},
        user_id=emulator.state.seed.agent_user,
    )

    second = api.get(first["@odata.nextLink"], headers=PAGE_OF_TWO).json()
    third = api.get(second["@odata.nextLink"], headers=PAGE_OF_TWO).json()

    assert _titles(second) == ["Case 2", "Case 3"]
    assert _titles(third) == ["Case 0 again"]


def test_repeated_next_link_fault(api: Api, emulator: DynamicsEmulator, clock: FakeClock) -> None:
    """inject_repeated_next_link makes a follow-up page link back to itself."""
    _seed(emulator, clock, 5)
    emulator.inject_repeated_next_link()
    first = api.get(QUERY, headers=PAGE_OF_TWO).json()

    second = api.get(first["@odata.nextLink"], headers=PAGE_OF_TWO).json()

    assert second["@odata.nextLink"] == first["@odata.nextLink"]


def test_top_without_page_size(api: Api, emulator: DynamicsEmulator, clock: FakeClock) -> None:
    """$top limits the rows when no page size is preferred, and is ignored when one is."""
    _seed(emulator, clock, 3)

    top = api.get(QUERY + "&$top=1").json()
    paged = api.get(QUERY + "&$top=1", headers=PAGE_OF_TWO).json()

    assert _titles(top) == ["Case 0"]
    assert "@odata.nextLink" not in top
    assert len(paged["value"]) == 2


def test_skip_rejected(api: Api) -> None:
    """$skip is not supported by the Web API."""
    response = api.get("incidents?$skip=2")

    assert response.status_code == 400
    assert "$skip" in response.json()["error"]["message"]


def test_filter_modifiedon(api: Api, emulator: DynamicsEmulator, clock: FakeClock) -> None:
    """An unquoted UTC literal filters modifiedon; ge includes the boundary."""
    _seed(emulator, clock, 3)

    body = api.get(QUERY + "&$filter=modifiedon ge 2024-05-01T07:16:42Z").json()

    assert _titles(body) == ["Case 1", "Case 2"]


def test_filter_unknown_column(api: Api) -> None:
    """An unknown column in $filter is a 400, never ignored."""
    response = api.get("incidents?$filter=short_description eq 'x'")

    assert response.status_code == 400
    assert "short_description" in response.json()["error"]["message"]


def test_count(api: Api, emulator: DynamicsEmulator, clock: FakeClock) -> None:
    """$count=true adds @odata.count of all matching rows."""
    _seed(emulator, clock, 3)

    body = api.get(QUERY + "&$count=true", headers=PAGE_OF_TWO).json()

    assert body["@odata.count"] == 3


def test_notes_of_case(api: Api, emulator: DynamicsEmulator) -> None:
    """incidents(<id>)/Incident_Annotation lists only that case's notes."""
    case = new_case(emulator)
    other = new_case(emulator)
    for target, text in ((case, "first"), (other, "other"), (case, "second")):
        api.post(
            "annotations",
            json={
                "notetext": text,
                "objectid_incident@odata.bind": f"/incidents({target['incidentid']})",
            },
        )

    body = api.get(f"incidents({case['incidentid']})/Incident_Annotation?$select=notetext").json()

    assert sorted(row["notetext"] for row in body["value"]) == ["first", "second"]
