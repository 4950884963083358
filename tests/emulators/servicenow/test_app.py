from __future__ import annotations

import re
from pathlib import Path

from tests.emulators.servicenow.support import INCIDENTS, JOURNAL, Api, FakeClock
from tierbridge.emulators.servicenow import ServiceNowEmulator

NOT_FOUND = {
    "error": {
        "message": "No Record found",
        "detail": "Record doesn't exist or ACL restricts the record retrieval",
    },
    "status": "failure",
}
SYS_ID = re.compile(r"^[0-9a-f]{32}$")


def test_values_are_strings(svc: Api) -> None:
    """Every value is a string, numbers and booleans included; empty values are ""."""
    created = svc.create(impact=2, urgency="1")

    assert created["impact"] == "2"
    assert created["priority"] == "2"
    assert created["active"] == "true"
    assert created["sys_mod_count"] == "0"
    assert created["description"] == ""
    assert created["caller_id"] == ""
    assert all(isinstance(value, str | dict) for value in created.values())


def test_number_and_sys_id(svc: Api) -> None:
    """Numbers count up from INC0010001 and sys_ids are 32 hex characters."""
    first = svc.create()
    second = svc.create()

    assert first["number"] == "INC0010001"
    assert second["number"] == "INC0010002"
    assert SYS_ID.match(first["sys_id"])


def test_reference_link_value(svc: Api, emulator: ServiceNowEmulator) -> None:
    """A set reference is {link, value}; exclude_reference_link makes it the bare sys_id."""
    group = emulator.state.ensure_group("Service Desk")
    created = svc.create(assignment_group=group["sys_id"])
    path = f"{INCIDENTS}/{created['sys_id']}"

    linked = svc.get(path).json()["result"]["assignment_group"]
    bare = svc.get(path, params={"sysparm_exclude_reference_link": "true"}).json()["result"]

    assert linked == {
        "link": f"{emulator.base_url}/api/now/table/sys_user_group/{group['sys_id']}",
        "value": group["sys_id"],
    }
    assert bare["assignment_group"] == group["sys_id"]


def test_display_value_all(svc: Api, emulator: ServiceNowEmulator) -> None:
    """display_value=all pairs each value with its label, referenced name or date."""
    group = emulator.state.ensure_group("Outsourced L2")
    created = svc.create(assignment_group=group["sys_id"], state="2")
    params = {"sysparm_display_value": "all", "sysparm_fields": "state,assignment_group,caller_id"}

    result = svc.get(f"{INCIDENTS}/{created['sys_id']}", params=params).json()["result"]

    assert result["state"] == {"display_value": "In Progress", "value": "2"}
    assert result["assignment_group"]["display_value"] == "Outsourced L2"
    assert result["assignment_group"]["value"] == group["sys_id"]
    assert "link" in result["assignment_group"]
    assert result["caller_id"] == {"display_value": "", "value": ""}


def test_display_value_true(agent: Api) -> None:
    """display_value=true gives labels, and dates in the caller's time zone."""
    created = agent.create(state="2")
    params = {"sysparm_display_value": "true", "sysparm_fields": "state,sys_created_on,priority"}

    result = agent.get(f"{INCIDENTS}/{created['sys_id']}", params=params).json()["result"]

    assert result["state"] == "In Progress"
    assert result["priority"] == "5 - Planning"
    assert result["sys_created_on"] == "2024-05-01 09:15:42"


def test_dates_are_utc(agent: Api, clock: FakeClock) -> None:
    """Stored dates are UTC whatever the user's zone (the agent is in Berlin)."""
    created = agent.create()

    assert created["sys_created_on"] == "2024-05-01 07:15:42"
    assert created["opened_at"] == "2024-05-01 07:15:42"


def test_sysparm_fields(svc: Api) -> None:
    """sysparm_fields limits the fields, unknown names are left out, dot-walks work."""
    svc.create(assignment_group="", short_description="x")
    params = {"sysparm_fields": "number,nope,opened_by.user_name"}

    row = svc.get(INCIDENTS, params=params).json()["result"][0]

    assert row == {"number": "INC0010001", "opened_by.user_name": "svc.tierbridge"}


def test_total_count_and_link(svc: Api, emulator: ServiceNowEmulator) -> None:
    """Lists carry X-Total-Count and a Link header with first/prev/next/last."""
    for _ in range(5):
        svc.create()
    params = {"sysparm_limit": "2", "sysparm_offset": "2", "sysparm_query": "ORDERBYnumber"}

    response = svc.get(INCIDENTS, params=params)

    assert response.headers["X-Total-Count"] == "5"
    assert [row["number"] for row in response.json()["result"]] == ["INC0010003", "INC0010004"]
    links = dict(
        (rel, url) for url, rel in re.findall(r'<([^>]+)>;rel="(\w+)"', response.headers["Link"])
    )
    assert set(links) == {"first", "prev", "next", "last"}
    assert links["next"].startswith(emulator.base_url + INCIDENTS)
    assert "sysparm_offset=4" in links["next"]
    assert "sysparm_offset=0" in links["prev"]
    assert "sysparm_offset=4" in links["last"]
    assert "sysparm_query=ORDERBYnumber" in links["next"]


def test_link_follows_to_end(svc: Api) -> None:
    """Following rel="next" visits every row once."""
    for _ in range(5):
        svc.create()
    url = f"{INCIDENTS}?sysparm_limit=2"
    seen: list[str] = []

    while url:
        response = svc.get(url)
        seen += [row["number"] for row in response.json()["result"]]
        found = re.search(r'<([^>]+)>;rel="next"', response.headers["Link"])
        url = found.group(1) if found else ""

    assert seen == [f"INC001000{i}" for i in range(1, 6)]


def test_no_count_and_suppress(svc: Api) -> None:
    """sysparm_no_count drops X-Total-Count; suppress_pagination_header drops Link."""
    params = {"sysparm_no_count": "true", "sysparm_suppress_pagination_header": "true"}

    response = svc.get(INCIDENTS, params=params)

    assert "X-Total-Count" not in response.headers
    assert "Link" not in response.headers


def test_unknown_query_field_dropped(svc: Api) -> None:
    """A misspelled query field is ignored and the whole table comes back."""
    svc.create()
    svc.create()

    response = svc.get(INCIDENTS, params={"sysparm_query": "numbr=INC0010001"})

    assert response.headers["X-Total-Count"] == "2"


def test_not_found_body(svc: Api) -> None:
    """A missing record gets 404 with the instance's error envelope."""
    response = svc.get(f"{INCIDENTS}/{'0' * 32}")

    assert response.status_code == 404
    assert response.json() == NOT_FOUND


def test_unauthenticated_body(emulator: ServiceNowEmulator) -> None:
    """Missing or wrong credentials get 401 with the envelope."""
    anonymous = Api(emulator.base_url, emulator.ca_cert, None)
    wrong = Api(emulator.base_url, emulator.ca_cert, ("svc.tierbridge", "wrong"))

    responses = [anonymous.get(INCIDENTS), wrong.get(INCIDENTS)]
    anonymous.close()
    wrong.close()

    for response in responses:
        assert response.status_code == 401
        assert response.json() == {
            "error": {
                "message": "User Not Authenticated",
                "detail": "Required to provide Auth information",
            },
            "status": "failure",
        }


def test_injected_429(svc: Api, emulator: ServiceNowEmulator, clock: FakeClock) -> None:
    """inject_429 rejects the next requests with 429, Retry-After and rate-limit headers."""
    emulator.inject_429(2, retry_after=7)

    first = svc.get(INCIDENTS)
    second = svc.get(INCIDENTS)
    third = svc.get(INCIDENTS)

    assert [first.status_code, second.status_code, third.status_code] == [429, 429, 200]
    assert first.headers["Retry-After"] == "7"
    assert first.headers["X-RateLimit-Reset"] == str(int(clock.now.timestamp()) + 7)
    assert first.headers["X-RateLimit-Limit"] == "500"
    assert SYS_ID.match(first.headers["X-RateLimit-Rule"])
    assert first.json() == {
        "error": {
            "message": "Rate limit exceeded",
            "detail": "Rate limit of 500 requests per hour for Table API exceeded",
        },
        "status": "failure",
    }


def test_bad_json_400(svc: Api) -> None:
    """A body that is not JSON gets 400."""
    response = svc.post(INCIDENTS, data=b"{not json", headers={"Content-Type": "application/json"})

    assert response.status_code == 400
    assert response.json()["status"] == "failure"


def test_invalid_table_400(svc: Api) -> None:
    """An unknown table gets 400 Invalid table."""
    response = svc.get("/api/now/table/no_such_table")

    assert response.status_code == 400
    assert response.json()["error"]["message"] == "Invalid table no_such_table"


def test_patch_counts_updates(svc: Api, clock: FakeClock) -> None:
    """Each update adds one to sys_mod_count and stamps sys_updated_on/by."""
    created = svc.create()
    clock.advance(60)

    response = svc.patch(f"{INCIDENTS}/{created['sys_id']}", json={"state": "2"})

    result = response.json()["result"]
    assert response.status_code == 200
    assert result["sys_mod_count"] == "1"
    assert result["sys_updated_on"] == "2024-05-01 07:16:42"
    assert result["sys_updated_by"] == "svc.tierbridge"
    assert result["sys_created_on"] == "2024-05-01 07:15:42"


def test_patch_without_change(svc: Api) -> None:
    """An update that changes nothing leaves sys_mod_count alone."""
    created = svc.create(state="2")

    result = svc.patch(f"{INCIDENTS}/{created['sys_id']}", json={"state": "2"}).json()["result"]

    assert result["sys_mod_count"] == "0"


def test_patch_no_response_body(svc: Api) -> None:
    """X-no-response-body: true gets 204 with no body."""
    created = svc.create()
    headers = {"X-no-response-body": "true"}

    response = svc.patch(f"{INCIDENTS}/{created['sys_id']}", json={"state": "2"}, headers=headers)

    assert response.status_code == 204
    assert response.content == b""


def test_put_updates(svc: Api) -> None:
    """PUT updates like PATCH."""
    created = svc.create()

    response = svc.call("PUT", f"{INCIDENTS}/{created['sys_id']}", json={"urgency": "1"})

    assert response.status_code == 200
    assert response.json()["result"]["priority"] == "3"


def test_delete_204(svc: Api) -> None:
    """DELETE gets 204, then the record is gone."""
    created = svc.create()
    path = f"{INCIDENTS}/{created['sys_id']}"

    assert svc.call("DELETE", path).status_code == 204
    assert svc.get(path).status_code == 404


def test_priority_read_only(svc: Api) -> None:
    """Priority derives from impact x urgency; a written priority is ignored."""
    created = svc.create(impact="1", urgency="2", priority="5")

    assert created["priority"] == "2"


def test_resolve_needs_close_code(svc: Api) -> None:
    """Resolving without close_code and close_notes is refused with 403."""
    created = svc.create()

    response = svc.patch(f"{INCIDENTS}/{created['sys_id']}", json={"state": "6"})

    assert response.status_code == 403
    assert "Data Policy Exception" in response.json()["error"]["detail"]
    assert svc.get(f"{INCIDENTS}/{created['sys_id']}").json()["result"]["state"] == "1"


def test_resolve_with_close_code(svc: Api) -> None:
    """Resolving with both close fields sets active false and resolved_at."""
    created = svc.create()
    values = {"state": "6", "close_code": "Solution provided", "close_notes": "Re-issued."}

    result = svc.patch(f"{INCIDENTS}/{created['sys_id']}", json=values).json()["result"]

    assert result["active"] == "false"
    assert result["incident_state"] == "6"
    assert result["resolved_at"] == "2024-05-01 07:15:42"


def test_journal_appends(svc: Api) -> None:
    """comments and work_notes append sys_journal_field rows and read back empty."""
    created = svc.create(comments="First public note")
    path = f"{INCIDENTS}/{created['sys_id']}"

    result = svc.patch(path, json={"work_notes": "Internal note"}).json()["result"]
    query = f"element_id={created['sys_id']}^elementINcomments,work_notes^ORDERBYsys_created_on"
    rows = svc.get(JOURNAL, params={"sysparm_query": query}).json()["result"]

    assert created["comments"] == ""
    assert result["work_notes"] == ""
    assert result["sys_mod_count"] == "1"
    assert [(row["element"], row["value"]) for row in rows] == [
        ("comments", "First public note"),
        ("work_notes", "Internal note"),
    ]
    assert rows[0]["name"] == "incident"
    assert rows[0]["sys_created_by"] == "svc.tierbridge"
    assert rows[0]["sys_created_on"] == "2024-05-01 07:15:42"


def test_journal_read_only(svc: Api) -> None:
    """sys_journal_field refuses writes with 403."""
    response = svc.post(JOURNAL, json={"value": "x"})

    assert response.status_code == 403


def test_input_display_value(agent: Api, clock: FakeClock) -> None:
    """sysparm_input_display_value accepts names and labels and reads dates in the user's zone."""
    params = {"sysparm_input_display_value": "true"}
    body = {"assignment_group": "Outsourced L2", "state": "In Progress", "caller_id": "Alex Doe"}

    result = agent.post(INCIDENTS, params=params, json=body).json()["result"]
    labels = agent.get(
        f"{INCIDENTS}/{result['sys_id']}",
        params={"sysparm_display_value": "true", "sysparm_exclude_reference_link": "true"},
    ).json()["result"]

    assert result["state"] == "2"
    assert labels["assignment_group"] == "Outsourced L2"
    assert labels["caller_id"] == "Alex Doe"


def test_dot_walk_query(svc: Api, emulator: ServiceNowEmulator) -> None:
    """Queries may follow a reference: assignment_group.name=..."""
    group = emulator.state.ensure_group("Group 56")
    svc.create(assignment_group=group["sys_id"])
    svc.create()

    response = svc.get(INCIDENTS, params={"sysparm_query": "assignment_group.name=Group 56"})

    assert response.headers["X-Total-Count"] == "1"


def test_choices_seeded(svc: Api) -> None:
    """sys_choice lists the incident states."""
    query = "name=incident^element=state^inactive=false^ORDERBYsequence"
    params = {"sysparm_query": query, "sysparm_fields": "value,label"}

    rows = svc.get("/api/now/table/sys_choice", params=params).json()["result"]

    assert [(row["value"], row["label"]) for row in rows] == [
        ("1", "New"),
        ("2", "In Progress"),
        ("3", "On Hold"),
        ("6", "Resolved"),
        ("7", "Closed"),
        ("8", "Canceled"),
    ]


def test_oauth_client_credentials(snow_tls_dir: Path) -> None:
    """oauth_token.do issues bearer tokens for registered clients; others get 401."""
    clients = {"tb-client": ("tb-secret", "svc.tierbridge")}
    with ServiceNowEmulator(tls_dir=snow_tls_dir, oauth_clients=clients) as emulator:
        api = Api(emulator.base_url, emulator.ca_cert, None)
        form = {"grant_type": "client_credentials", "client_id": "tb-client"}

        # Keep only plain values, because a live Response keeps its connection open and the
        # server waits for open connections when it stops.
        refused = api.post("/oauth_token.do", data={**form, "client_secret": "wrong"}).status_code
        granted = api.post("/oauth_token.do", data={**form, "client_secret": "tb-secret"}).json()
        headers = {"Authorization": f"Bearer {granted['access_token']}"}
        listed = api.get(INCIDENTS, headers=headers).status_code
        api.close()

    assert refused == 401
    assert granted["token_type"] == "Bearer"
    assert granted["expires_in"] == 1799
    assert listed == 200
