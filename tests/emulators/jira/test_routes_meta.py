from __future__ import annotations

import requests

from tests.emulators.jira.support import Api
from tierbridge.emulators.jira import JiraEmulator


def test_server_info_is_cloud(svc: Api) -> None:
    """serverInfo responds on v2 and v3 and reports a Cloud deployment."""
    for version in ("2", "3"):
        body = svc.get(f"/rest/api/{version}/serverInfo").json()

        assert body["deploymentType"] == "Cloud"
        assert body["versionNumbers"][0] >= 1000


def test_myself_has_time_zone(svc: Api, agent: Api) -> None:
    """Each account reports its own time zone and account id."""
    me = svc.get("/rest/api/3/myself").json()
    other = agent.get("/rest/api/3/myself").json()

    assert me["timeZone"] == "Europe/Berlin"
    assert me["emailAddress"] == "svc.tierbridge@example.com"
    assert other["timeZone"] == "Asia/Kolkata"
    assert me["accountId"] != other["accountId"]


def test_wrong_token_gives_401(emulator: JiraEmulator) -> None:
    """A wrong API token is refused with 401 and the Jira error body."""
    api = Api(emulator.base_url, emulator.ca_cert, ("svc.tierbridge@example.com", "nope"))

    response = api.get("/rest/api/3/myself")
    api.session.close()

    assert response.status_code == 401
    assert response.json() == {
        "errorMessages": ["Client must be authenticated to access this resource."],
        "errors": {},
    }


def test_field_list_has_custom_fields(svc: Api) -> None:
    """/field lists the correlation and category fields with their JQL clause names."""
    fields = {item["id"]: item for item in svc.get("/rest/api/2/field").json()}

    assert fields["customfield_10060"]["name"] == "External reference"
    assert fields["customfield_10060"]["clauseNames"] == ["cf[10060]", "External reference"]
    assert fields["customfield_10050"]["schema"]["custom"].endswith(":select")
    assert fields["summary"]["custom"] is False


def test_priorities_and_resolutions(svc: Api) -> None:
    """Priorities run Highest..Lowest with ids 1..5; three resolutions exist."""
    priorities = svc.get("/rest/api/3/priority").json()
    resolutions = svc.get("/rest/api/3/resolution").json()

    assert [(item["id"], item["name"]) for item in priorities] == [
        ("1", "Highest"),
        ("2", "High"),
        ("3", "Medium"),
        ("4", "Low"),
        ("5", "Lowest"),
    ]
    assert [item["name"] for item in resolutions] == ["Done", "Won't Do", "Duplicate"]


def test_user_search_by_email(svc: Api) -> None:
    """User search matches the start of an e-mail address."""
    found = svc.get("/rest/api/3/user/search", params={"query": "agent.l2@"}).json()

    assert [user["emailAddress"] for user in found] == ["agent.l2@example.com"]
    assert found[0]["accountId"]


def test_unknown_path_gives_jira_404(svc: Api) -> None:
    """An unknown path returns 404 in Jira's error shape."""
    response = svc.get("/rest/api/3/nothing-here")

    assert response.status_code == 404
    assert "errorMessages" in response.json()


def test_plain_requests_need_ca(emulator: JiraEmulator) -> None:
    """The emulator serves HTTPS with its own CA, which clients must trust."""
    session = requests.Session()
    session.trust_env = False

    response = session.get(
        emulator.base_url + "/rest/api/2/serverInfo", verify=str(emulator.ca_cert), timeout=10
    )
    session.close()

    assert response.status_code == 200
