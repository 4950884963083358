from __future__ import annotations

from typing import Any

from tests.emulators.jira.support import Api, FakeClock
from tierbridge.emulators.jira import JiraEmulator

DOC = {
    "type": "doc",
    "version": 1,
    "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Hello"}]}],
}


def _create(api: Api, **fields: Any) -> dict[str, Any]:
    payload = {
        "fields": {
            "project": {"key": "L2"},
            "issuetype": {"name": "[System] Incident"},
            "summary": "Printer on fire",
            **fields,
        }
    }
    response = api.post("/rest/api/3/issue", json=payload)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_issue_ids_and_keys(svc: Api) -> None:
    """Ids are numeric strings from 10000 and keys count up in the project."""
    first = _create(svc)
    second = _create(svc)

    assert (first["id"], first["key"]) == ("10000", "L2-1")
    assert (second["id"], second["key"]) == ("10001", "L2-2")


def test_timestamps_in_viewer_zone(svc: Api, agent: Api) -> None:
    """The same issue shows +0200 to the Berlin user and +0530 to the Kolkata user."""
    key = _create(svc)["key"]

    mine = svc.get(f"/rest/api/3/issue/{key}").json()["fields"]
    theirs = agent.get(f"/rest/api/3/issue/{key}").json()["fields"]

    assert mine["created"] == "2024-05-01T09:15:42.117+0200"
    assert theirs["created"] == "2024-05-01T12:45:42.117+0530"
    assert theirs["updated"] == theirs["created"]


def test_fields_parameter_narrows(svc: Api) -> None:
    """`fields=` returns only the named fields."""
    key = _create(svc)["key"]

    body = svc.get(f"/rest/api/3/issue/{key}", params={"fields": "summary,status"}).json()

    assert set(body["fields"]) == {"summary", "status"}
    assert body["fields"]["status"]["statusCategory"]["key"] == "new"


def test_missing_issue_gives_404(svc: Api) -> None:
    """An unknown key returns 404 with Jira's message."""
    response = svc.get("/rest/api/3/issue/L2-999")

    assert response.status_code == 404
    assert response.json() == {
        "errorMessages": ["Issue L2-999 does not exist or you do not have permission to see it."],
        "errors": {},
    }


def test_create_requires_summary_and_adf(svc: Api) -> None:
    """A plain-string description and a missing summary are both reported under errors."""
    payload = {
        "fields": {
            "project": {"key": "L2"},
            "issuetype": {"id": "10003"},
            "description": "plain text",
        }
    }

    response = svc.post("/rest/api/3/issue", json=payload)

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {"summary", "description"}
    assert "Atlassian Document" in errors["description"]


def test_edit_status_gives_400(svc: Api) -> None:
    """Status cannot be set by an edit; only transitions move it."""
    key = _create(svc)["key"]

    response = svc.put(f"/rest/api/3/issue/{key}", json={"fields": {"status": {"name": "Closed"}}})

    assert response.status_code == 400
    assert "status" in response.json()["errors"]


def test_edit_bumps_updated(svc: Api, clock: FakeClock) -> None:
    """An edit returns 204, stores the values and moves `updated`."""
    key = _create(svc)["key"]
    clock.advance(61)

    response = svc.put(
        f"/rest/api/3/issue/{key}",
        json={
            "fields": {
                "description": DOC,
                "priority": {"name": "High"},
                "labels": ["vpn"],
                "customfield_10050": {"value": "Network"},
                "customfield_10060": "snow:1",
            }
        },
    )
    fields = svc.get(f"/rest/api/3/issue/{key}").json()["fields"]

    assert response.status_code == 204
    assert fields["updated"] == "2024-05-01T09:16:43.117+0200"
    assert fields["description"] == DOC
    assert fields["priority"]["name"] == "High"
    assert fields["customfield_10050"]["value"] == "Network"
    assert fields["customfield_10060"] == "snow:1"
    assert fields["labels"] == ["vpn"]


def test_edit_without_change_keeps_updated(svc: Api, clock: FakeClock) -> None:
    """Writing the values an issue already has changes nothing."""
    key = _create(svc)["key"]
    clock.advance(61)

    svc.put(f"/rest/api/3/issue/{key}", json={"fields": {"summary": "Printer on fire"}})

    assert (
        svc.get(f"/rest/api/3/issue/{key}")
        .json()["fields"]["updated"]
        .startswith("2024-05-01T09:15:42")
    )


def test_edit_rejects_bad_values(svc: Api) -> None:
    """Unknown options, priorities and accounts are named under errors."""
    key = _create(svc)["key"]

    response = svc.put(
        f"/rest/api/3/issue/{key}",
        json={
            "fields": {
                "customfield_10050": {"value": "Networking"},
                "priority": {"name": "Urgent"},
                "assignee": {"accountId": "nobody"},
            }
        },
    )

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors["customfield_10050"] == "Option value 'Networking' is not valid."
    assert set(errors) == {"customfield_10050", "priority", "assignee"}


def test_comment_public_by_default(svc: Api) -> None:
    """A platform comment without properties is public and returned as ADF."""
    key = _create(svc)["key"]

    created = svc.post(f"/rest/api/3/issue/{key}/comment", json={"body": DOC})

    assert created.status_code == 201
    assert created.json()["jsdPublic"] is True
    assert created.json()["body"] == DOC


def test_comment_internal_by_property(svc: Api) -> None:
    """The sd.public.comment property with boolean internal makes an internal note."""
    key = _create(svc)["key"]
    internal = [{"key": "sd.public.comment", "value": {"internal": True}}]
    as_string = [{"key": "sd.public.comment", "value": {"internal": "true"}}]

    svc.post(f"/rest/api/3/issue/{key}/comment", json={"body": DOC, "properties": internal})
    svc.post(f"/rest/api/3/issue/{key}/comment", json={"body": DOC, "properties": as_string})
    page = svc.get(f"/rest/api/3/issue/{key}/comment", params={"expand": "properties"}).json()

    assert [item["jsdPublic"] for item in page["comments"]] == [False, True]
    assert page["comments"][0]["properties"][0]["value"] == {"internal": True}
    assert page["total"] == 2


def test_comment_bumps_updated(svc: Api, clock: FakeClock) -> None:
    """Adding a comment moves the issue's `updated`."""
    key = _create(svc)["key"]
    clock.advance(120)

    svc.post(f"/rest/api/3/issue/{key}/comment", json={"body": DOC})

    assert svc.get(f"/rest/api/3/issue/{key}").json()["fields"]["updated"] == (
        "2024-05-01T09:17:42.117+0200"
    )


def test_comment_pages(svc: Api, emulator: JiraEmulator) -> None:
    """Comments page with startAt and maxResults, capped at 100 per page."""
    key = _create(svc)["key"]
    issue = emulator.state.find(key)
    assert issue is not None
    for _ in range(105):
        emulator.state.add_comment(
            emulator.state.profiles["svc.tierbridge@example.com"], issue, DOC, public=True
        )

    first = svc.get(f"/rest/api/3/issue/{key}/comment", params={"maxResults": 500}).json()
    rest = svc.get(f"/rest/api/3/issue/{key}/comment", params={"startAt": 100}).json()

    assert len(first["comments"]) == 100
    assert first["total"] == 105
    assert len(rest["comments"]) == 5


def test_comment_string_body_gives_400(svc: Api) -> None:
    """API v3 wants an ADF comment body, not a string."""
    key = _create(svc)["key"]

    response = svc.post(f"/rest/api/3/issue/{key}/comment", json={"body": "hello"})

    assert response.status_code == 400
    assert "comment" in response.json()["errors"]
