from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.emulators.jira.support import SVC, Api, FakeClock, WebhookSink
from tierbridge.emulators.jira import JiraEmulator

EDITABLE = {
    "summary",
    "description",
    "priority",
    "assignee",
    "reporter",
    "labels",
    "customfield_10060",
    "customfield_10050",
}
NOT_ON_SCREEN = "Field 'resolution' cannot be set. It is not on the appropriate screen, or unknown."


def _editmeta(api: Api, key: str) -> dict[str, Any]:
    response = api.get(f"/rest/api/3/issue/{key}/editmeta")
    assert response.status_code == 200, response.text
    fields: dict[str, Any] = response.json()["fields"]
    return fields


def _resolved(api: Api, resolution: str = "Duplicate") -> str:
    """Raise a request and resolve it with `resolution`; return its key."""
    key: str = api.create_request()["issueKey"]
    response = api.post(
        f"/rest/api/3/issue/{key}/transitions",
        json={"transition": {"id": "51"}, "fields": {"resolution": {"name": resolution}}},
    )
    assert response.status_code == 204, response.text
    return key


def _fields(api: Api, key: str) -> dict[str, Any]:
    fields: dict[str, Any] = api.get(f"/rest/api/3/issue/{key}").json()["fields"]
    return fields


class TestEditmeta:
    def test_lists_editable_fields(self, svc: Api) -> None:
        """Without Resolution on the edit screen, editmeta lists exactly the editable fields."""
        key = svc.create_request()["issueKey"]

        fields = _editmeta(svc, key)

        assert set(fields) == EDITABLE
        assert fields["summary"] == {
            "required": True,
            "schema": {"type": "string", "system": "summary"},
            "name": "Summary",
            "key": "summary",
            "operations": ["set"],
        }
        assert fields["labels"]["operations"] == ["add", "set", "remove"]
        assert fields["labels"]["schema"] == {
            "type": "array",
            "items": "string",
            "system": "labels",
        }
        assert fields["assignee"]["required"] is False

    def test_select_fields_allowed_values(self, svc: Api) -> None:
        """Priority and Category list their values; the custom field's schema has its id."""
        key = svc.create_request()["issueKey"]

        fields = _editmeta(svc, key)
        priorities = svc.get("/rest/api/3/priority").json()
        category = fields["customfield_10050"]

        assert [value["name"] for value in fields["priority"]["allowedValues"]] == [
            item["name"] for item in priorities
        ]
        assert fields["priority"]["allowedValues"][0]["id"] == "1"
        assert category["name"] == "Category"
        assert category["schema"]["customId"] == 10050
        assert [value["value"] for value in category["allowedValues"]] == [
            "Hardware",
            "Network",
            "Software",
            "Access",
        ]
        assert "allowedValues" not in fields["summary"]

    def test_resolution_listed_when_on_screen(self, emulator: JiraEmulator, svc: Api) -> None:
        """With the option on, Resolution is listed with the site's resolutions as values."""
        key = svc.create_request()["issueKey"]
        emulator.resolution_on_edit_screen = True

        fields = _editmeta(svc, key)

        assert set(fields) == EDITABLE | {"resolution"}
        resolution = fields["resolution"]
        assert resolution["name"] == "Resolution"
        assert resolution["key"] == "resolution"
        assert resolution["schema"] == {"type": "resolution", "system": "resolution"}
        assert resolution["operations"] == ["set"]
        assert resolution["allowedValues"] == svc.get("/rest/api/3/resolution").json()

    def test_unknown_issue(self, svc: Api) -> None:
        """editmeta of an unknown issue returns 404, as the issue itself does."""
        response = svc.get("/rest/api/3/issue/L2-404/editmeta")

        assert response.status_code == 404
        assert response.json()["errorMessages"] == [
            "Issue L2-404 does not exist or you do not have permission to see it."
        ]


class TestEditResolution:
    def test_rejected_off_screen(self, svc: Api) -> None:
        """By default the edit rejects a resolution, as on most Jira sites."""
        key = _resolved(svc)

        response = svc.put(
            f"/rest/api/3/issue/{key}", json={"fields": {"resolution": {"name": "Done"}}}
        )

        assert response.status_code == 400
        assert response.json() == {"errorMessages": [], "errors": {"resolution": NOT_ON_SCREEN}}
        assert _fields(svc, key)["resolution"]["name"] == "Duplicate"

    def test_changed_on_done_issue(
        self, emulator: JiraEmulator, sink: WebhookSink, svc: Api, clock: FakeClock
    ) -> None:
        """On the screen, the edit changes a resolved issue's resolution, its date and changelog."""
        key = _resolved(svc)
        emulator.resolution_on_edit_screen = True
        assert emulator.drain_webhooks(5)
        sink.deliveries.clear()
        clock.advance(60)

        response = svc.put(
            f"/rest/api/3/issue/{key}", json={"fields": {"resolution": {"name": "Done"}}}
        )
        fields = _fields(svc, key)
        assert emulator.drain_webhooks(5)
        bodies = [json.loads(item.body) for item in sink.deliveries]

        assert response.status_code == 204
        assert fields["resolution"]["name"] == "Done"
        assert fields["status"]["name"] == "Resolved"
        assert fields["resolutiondate"] == "2024-05-01T09:16:42.117+0200"
        assert [body["issue_event_type_name"] for body in bodies] == ["issue_updated"]
        assert bodies[0]["changelog"]["items"] == [
            {
                "field": "resolution",
                "fieldtype": "jira",
                "fieldId": "resolution",
                "from": "10002",
                "fromString": "Duplicate",
                "to": "10000",
                "toString": "Done",
            }
        ]

    def test_by_id_update_and_null(self, emulator: JiraEmulator, svc: Api) -> None:
        """The edit takes a resolution by id, by an `update` set, or null to clear it."""
        key = _resolved(svc)
        emulator.resolution_on_edit_screen = True
        path = f"/rest/api/3/issue/{key}"

        by_id = svc.put(path, json={"fields": {"resolution": {"id": "10001"}}})
        after_id = _fields(svc, key)["resolution"]["name"]
        by_update = svc.put(path, json={"update": {"resolution": [{"set": {"name": "Done"}}]}})
        after_update = _fields(svc, key)["resolution"]["name"]
        cleared = svc.put(path, json={"fields": {"resolution": None}})
        after_clear = _fields(svc, key)

        assert by_id.status_code == 204
        assert after_id == "Won't Do"
        assert by_update.status_code == 204
        assert after_update == "Done"
        assert cleared.status_code == 204
        assert after_clear["resolution"] is None
        assert after_clear["resolutiondate"] is None

    def test_rejected_issue_not_done(self, emulator: JiraEmulator, svc: Api) -> None:
        """With Resolution on the edit screen, an issue that is not done still rejects one."""
        key = svc.create_request()["issueKey"]
        emulator.resolution_on_edit_screen = True

        response = svc.put(
            f"/rest/api/3/issue/{key}",
            json={"fields": {"summary": "new", "resolution": {"name": "Done"}}},
        )
        fields = _fields(svc, key)

        assert response.status_code == 400
        message = response.json()["errors"]["resolution"]
        assert "done status" in message
        assert "'Waiting for support'" in message
        assert fields["summary"] == "VPN drops"
        assert fields["resolution"] is None

    def test_unknown_resolution_name(self, emulator: JiraEmulator, svc: Api) -> None:
        """An unknown resolution name gets Jira's 400 text and changes nothing."""
        key = _resolved(svc)
        emulator.resolution_on_edit_screen = True

        response = svc.put(
            f"/rest/api/3/issue/{key}", json={"fields": {"resolution": {"name": "Fixed"}}}
        )

        assert response.status_code == 400
        assert response.json() == {
            "errorMessages": [],
            "errors": {"resolution": "Could not find valid 'id' or 'name' in resolution object."},
        }
        assert _fields(svc, key)["resolution"]["name"] == "Duplicate"


def test_constructor_option_survives_reset(jira_tls_dir: Path) -> None:
    """`resolution_on_edit_screen=True` puts Resolution on the screen; reset() restores it."""
    with JiraEmulator(tls_dir=jira_tls_dir, resolution_on_edit_screen=True) as emulator:
        emulator.resolution_on_edit_screen = False
        emulator.reset()
        api = Api(emulator.base_url, emulator.ca_cert, SVC)
        key = api.create_request()["issueKey"]
        fields = _editmeta(api, key)
        api.session.close()

    assert "resolution" in fields
