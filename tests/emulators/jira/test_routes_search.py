from __future__ import annotations

from typing import Any

from tests.emulators.jira.support import Api, FakeClock


def _search(api: Api, jql: str, **params: Any) -> Any:
    return api.get("/rest/api/3/search/jql", params={"jql": jql, **params})


def test_default_fields_are_ids_only(svc: Api) -> None:
    """Without `fields` each issue is only its id."""
    svc.create_request()

    body = _search(svc, "project = L2").json()

    assert body == {"issues": [{"id": "10000"}], "isLast": True}


def test_fields_repeated_or_commas(svc: Api) -> None:
    """`fields` may be repeated or comma-separated."""
    svc.create_request()

    repeated = _search(svc, "project = L2", fields=["summary", "updated"]).json()
    commas = _search(svc, "project = L2", fields="summary,updated").json()

    assert set(repeated["issues"][0]["fields"]) == {"summary", "updated"}
    assert repeated["issues"] == commas["issues"]


def test_paging_with_token(svc: Api) -> None:
    """Pages follow nextPageToken, only the last has isLast true, and no total is sent."""
    for number in range(5):
        svc.create_request(f"issue {number}")
    keys: list[str] = []
    token = None
    pages = 0

    while True:
        params: dict[str, Any] = {"maxResults": 2, "fields": "key"}
        if token:
            params["nextPageToken"] = token
        body = _search(svc, "project = L2 ORDER BY key ASC", **params).json()
        pages += 1
        assert "total" not in body
        keys.extend(issue["key"] for issue in body["issues"])
        token = body.get("nextPageToken")
        assert body["isLast"] is (token is None)
        if body["isLast"]:
            break

    assert pages == 3
    assert keys == ["L2-1", "L2-2", "L2-3", "L2-4", "L2-5"]


def test_page_size_capped(svc: Api, clock: FakeClock) -> None:
    """maxResults defaults to 50 and is capped at 100."""
    for _ in range(120):
        svc.create_request()

    default = _search(svc, "project = L2").json()
    large = _search(svc, "project = L2", maxResults=1000).json()

    assert len(default["issues"]) == 50
    assert len(large["issues"]) == 100
    assert large["isLast"] is False


def test_token_bound_to_query(svc: Api) -> None:
    """A token from another query is refused with 400."""
    for _ in range(3):
        svc.create_request()
    token = _search(svc, "project = L2", maxResults=1).json()["nextPageToken"]

    response = _search(svc, "project = L2 ORDER BY key DESC", nextPageToken=token)

    assert response.status_code == 400
    assert "next page token" in response.json()["errorMessages"][0]


def test_empty_jql_gives_400(svc: Api) -> None:
    """An empty query is refused."""
    response = _search(svc, "")

    assert response.status_code == 400
    assert response.json()["errorMessages"][0].startswith("Unbounded JQL queries")


def test_updated_minute_in_user_zone(svc: Api, agent: Api, clock: FakeClock) -> None:
    """The same literal is read in each searcher's zone, to the minute."""
    svc.create_request("early")
    clock.advance(60)
    svc.create_request("late")
    berlin = 'project = L2 AND updated >= "2024-05-01 09:16"'
    kolkata = 'project = L2 AND updated >= "2024-05-01 12:46"'

    assert [i["id"] for i in _search(svc, berlin).json()["issues"]] == ["10001"]
    assert [i["id"] for i in _search(agent, kolkata).json()["issues"]] == ["10001"]
    assert [i["id"] for i in _search(agent, berlin).json()["issues"]] == ["10000", "10001"]


def test_post_form(svc: Api) -> None:
    """POST takes the same parameters as a JSON body."""
    svc.create_request(customfield_10060="snow:INC0010023")

    body = svc.post(
        "/rest/api/3/search/jql",
        json={
            "jql": 'project = L2 AND "External reference" ~ "INC0010023"',
            "fields": ["customfield_10060"],
            "maxResults": 10,
        },
    ).json()

    assert body["issues"][0]["fields"] == {"customfield_10060": "snow:INC0010023"}


def test_v2_twin_renders_wiki(svc: Api) -> None:
    """/rest/api/2/search/jql returns descriptions as wiki strings."""
    svc.create_request(description="hello")

    body = svc.get(
        "/rest/api/2/search/jql", params={"jql": "project = L2", "fields": "description"}
    ).json()

    assert body["issues"][0]["fields"]["description"] == "hello"
