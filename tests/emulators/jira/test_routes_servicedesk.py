from __future__ import annotations

from tests.emulators.jira.support import Api


def test_service_desk_listed(svc: Api) -> None:
    """The one service desk is listed with its project."""
    body = svc.get("/rest/servicedeskapi/servicedesk").json()

    assert body["values"][0]["id"] == "1"
    assert body["values"][0]["projectKey"] == "L2"
    assert body["isLastPage"] is True


def test_request_created_shape(svc: Api) -> None:
    """Creating a request returns ids, current status and the created date in user time."""
    body = svc.create_request(
        "VPN drops",
        description="one\ntwo",
        customfield_10060="snow:INC1",
        customfield_10050={"value": "Network"},
    )

    assert (body["issueId"], body["issueKey"]) == ("10000", "L2-1")
    assert body["currentStatus"]["status"] == "Waiting for support"
    assert body["currentStatus"]["statusCategory"] == "NEW"
    assert body["createdDate"]["iso8601"] == "2024-05-01T09:15:42+0200"
    assert body["createdDate"]["epochMillis"] == 1714547742117


def test_request_fields_stored(svc: Api) -> None:
    """Request field values land on the issue; the description becomes ADF."""
    svc.create_request("VPN drops", description="one\ntwo", customfield_10060="snow:INC1")

    fields = svc.get("/rest/api/3/issue/L2-1").json()["fields"]

    assert fields["customfield_10060"] == "snow:INC1"
    assert fields["description"]["content"][0]["content"][1] == {"type": "hardBreak"}
    assert fields["customfield_10010"]["requestType"]["name"] == "Report a system problem"
    assert fields["reporter"]["emailAddress"] == "svc.tierbridge@example.com"


def test_unknown_request_type_gives_400(svc: Api) -> None:
    """An unknown request type is refused in the JSM error shape."""
    response = svc.post(
        "/rest/servicedeskapi/request",
        json={
            "serviceDeskId": "1",
            "requestTypeId": "99",
            "requestFieldValues": {"summary": "x"},
        },
    )

    assert response.status_code == 400
    assert "request type" in response.json()["errorMessage"]


def test_field_off_request_type_gives_400(svc: Api) -> None:
    """Fields that are not on the request type are refused."""
    response = svc.post(
        "/rest/servicedeskapi/request",
        json={
            "serviceDeskId": "1",
            "requestTypeId": "10",
            "requestFieldValues": {"summary": "x", "assignee": {"accountId": "a"}},
        },
    )

    assert response.status_code == 400
    assert "assignee" in response.json()["errorMessage"]


def test_request_comment_visibility(svc: Api) -> None:
    """JSM comments take plain text and a public flag, read back as jsdPublic."""
    key = svc.create_request()["issueKey"]

    internal = svc.post(
        f"/rest/servicedeskapi/request/{key}/comment", json={"body": "note", "public": False}
    )
    public = svc.post(
        f"/rest/servicedeskapi/request/{key}/comment", json={"body": "reply", "public": True}
    )
    listed = svc.get(f"/rest/api/3/issue/{key}/comment").json()["comments"]

    assert internal.status_code == 201
    assert internal.json()["public"] is False
    assert public.json()["body"] == "reply"
    assert [item["jsdPublic"] for item in listed] == [False, True]


def test_request_comment_missing_issue(svc: Api) -> None:
    """Commenting on an unknown request returns 404."""
    response = svc.post(
        "/rest/servicedeskapi/request/L2-77/comment", json={"body": "x", "public": True}
    )

    assert response.status_code == 404
    assert "errorMessage" in response.json()
