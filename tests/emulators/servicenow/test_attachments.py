"""The emulator's Attachment API: upload, list, metadata, download, errors, notices."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.emulators.servicenow.conftest import WEBHOOK_SECRET
from tests.emulators.servicenow.support import AGENT, INCIDENTS, Api, FakeClock, WebhookSink
from tierbridge.emulators._faults import FaultPlan
from tierbridge.emulators.servicenow import ChangeEvent, ServiceNowAgent, ServiceNowEmulator
from tierbridge.emulators.servicenow.webhook import sign

ATTACHMENTS = "/api/now/attachment"
UPLOAD = "/api/now/attachment/file"
NOT_FOUND = {
    "error": {
        "message": "No Record found",
        "detail": "Record doesn't exist or ACL restricts the record retrieval",
    },
    "status": "failure",
}
EVERY_BYTE = bytes(range(256))
MISSING_ID = "0" * 32


def upload(
    api: Api,
    sys_id: str,
    file_name: str = "vpn-log.txt",
    content: bytes = b"VPN dropped at 09:14\n",
    content_type: str | None = "text/plain",
    table: str = "incident",
) -> requests.Response:
    params = {"table_name": table, "table_sys_id": sys_id, "file_name": file_name}
    headers = {"Content-Type": content_type} if content_type is not None else {}
    return api.post(UPLOAD, params=params, data=content, headers=headers)


def attached(api: Api, sys_id: str, **kwargs: Any) -> dict[str, Any]:
    response = upload(api, sys_id, **kwargs)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()["result"]
    return result


def files_of(api: Api, sys_id: str, **params: str) -> requests.Response:
    query = f"table_name=incident^table_sys_id={sys_id}"
    return api.get(ATTACHMENTS, params={"sysparm_query": query, **params})


class TestUpload:
    def test_created_with_metadata(self, svc: Api, emulator: ServiceNowEmulator) -> None:
        """An upload responds 201 with string metadata, a download link and a Location."""
        incident = svc.create()

        response = upload(svc, incident["sys_id"])

        assert response.status_code == 201
        result = response.json()["result"]
        assert re.fullmatch(r"[0-9a-f]{32}", result["sys_id"])
        assert result["file_name"] == "vpn-log.txt"
        assert result["content_type"] == "text/plain"
        assert result["size_bytes"] == "21"
        assert result["table_name"] == "incident"
        assert result["table_sys_id"] == incident["sys_id"]
        assert result["sys_created_on"] == "2024-05-01 07:15:42"
        assert result["sys_created_by"] == "svc.tierbridge"
        assert result["sys_mod_count"] == "0"
        assert result["compressed"] == "false"
        link = f"{emulator.base_url}{ATTACHMENTS}/{result['sys_id']}/file"
        assert result["download_link"] == link
        assert (
            response.headers["Location"] == f"{emulator.base_url}{ATTACHMENTS}/{result['sys_id']}"
        )
        assert all(isinstance(value, str) for value in result.values())

    def test_bytes_and_name_kept(self, svc: Api, emulator: ServiceNowEmulator) -> None:
        """Every byte value and a non-ASCII file name come back as sent."""
        incident = svc.create()
        # An en dash, an umlaut and kanji, sent percent-encoded in the query string.
        name = "Prüfbericht \u2013 東京.pdf"

        result = attached(
            svc,
            incident["sys_id"],
            file_name=name,
            content=EVERY_BYTE,
            content_type="application/pdf",
        )

        assert result["file_name"] == name
        assert result["size_bytes"] == "256"
        assert emulator.state.attachment_content(result["sys_id"]) == EVERY_BYTE

    def test_record_unchanged(
        self, svc: Api, emulator: ServiceNowEmulator, clock: FakeClock
    ) -> None:
        """Attaching a file leaves the record's sys_updated_on and sys_mod_count as they were."""
        incident = svc.create()
        clock.advance(60)

        attached(svc, incident["sys_id"])

        stored = emulator.state.get("incident", incident["sys_id"])
        assert stored is not None
        assert stored["sys_updated_on"] == incident["sys_updated_on"]
        assert stored["sys_mod_count"] == incident["sys_mod_count"]

    def test_unknown_record_404(self, svc: Api) -> None:
        """An upload to a record that does not exist gets the instance's 404 body."""
        response = upload(svc, MISSING_ID)

        assert response.status_code == 404
        assert response.json() == NOT_FOUND

    def test_unknown_table_404(self, svc: Api) -> None:
        """An upload naming a table the instance does not have is a missing record too."""
        response = upload(svc, MISSING_ID, table="u_no_such_table")

        assert response.status_code == 404
        assert response.json() == NOT_FOUND

    @pytest.mark.parametrize("missing", ["table_name", "table_sys_id", "file_name"])
    def test_missing_parameter_400(self, svc: Api, missing: str) -> None:
        """Each of the three query parameters is mandatory."""
        incident = svc.create()
        params = {"table_name": "incident", "table_sys_id": incident["sys_id"], "file_name": "a"}
        del params[missing]

        response = svc.post(
            UPLOAD, params=params, data=b"x", headers={"Content-Type": "text/plain"}
        )

        assert response.status_code == 400
        body = response.json()
        assert body["status"] == "failure"
        assert missing in body["error"]["detail"]

    def test_missing_content_type_400(self, svc: Api) -> None:
        """The file's Content-Type header is mandatory."""
        incident = svc.create()

        response = upload(svc, incident["sys_id"], content_type=None)

        assert response.status_code == 400
        assert "Content-Type" in response.json()["error"]["detail"]

    def test_over_maximum_400(self, svc: Api, emulator: ServiceNowEmulator) -> None:
        """A file over com.glide.attachment.max_size is refused and not stored."""
        incident = svc.create()
        emulator.state.max_attachment_bytes = 10

        response = upload(svc, incident["sys_id"], content=b"x" * 11)

        assert response.status_code == 400
        body = response.json()
        assert body["error"]["message"] == "Failed to create the attachment"
        assert "com.glide.attachment.max_size" in body["error"]["detail"]
        assert emulator.state.attachments(incident["sys_id"]) == []

    def test_at_maximum_accepted(self, svc: Api, emulator: ServiceNowEmulator) -> None:
        """A file of exactly the maximum size is accepted."""
        incident = svc.create()
        emulator.state.max_attachment_bytes = 10

        response = upload(svc, incident["sys_id"], content=b"x" * 10)

        assert response.status_code == 201

    def test_reset_restores_maximum(self, emulator: ServiceNowEmulator) -> None:
        """reset() puts back the size limit given to the constructor."""
        emulator.state.max_attachment_bytes = 10

        emulator.reset()

        assert emulator.state.max_attachment_bytes == 1024 * 1024 * 1024

    def test_read_only_table_403(self, svc: Api, emulator: ServiceNowEmulator) -> None:
        """Files cannot be attached to tables the integration user may only read."""
        [choice] = emulator.state.select("sys_choice", "element=state^value=2^name=incident")

        response = upload(svc, choice["sys_id"], table="sys_choice")

        assert response.status_code == 403


class TestList:
    def test_lists_one_record(self, svc: Api, clock: FakeClock) -> None:
        """The list contains the queried record's files, oldest first, as metadata objects."""
        first, other = svc.create(), svc.create()
        attached(svc, first["sys_id"], file_name="a.txt")
        clock.advance(1)
        attached(svc, other["sys_id"], file_name="other.txt")
        attached(svc, first["sys_id"], file_name="b.txt")

        response = files_of(svc, first["sys_id"])

        assert response.status_code == 200
        assert response.headers["X-Total-Count"] == "2"
        names = [row["file_name"] for row in response.json()["result"]]
        assert names == ["a.txt", "b.txt"]
        assert "download_link" in response.json()["result"][0]

    def test_empty(self, svc: Api) -> None:
        """A record without files gives an empty result, not a 404."""
        incident = svc.create()

        response = files_of(svc, incident["sys_id"])

        assert response.status_code == 200
        assert response.json() == {"result": []}
        assert response.headers["X-Total-Count"] == "0"

    def test_pages(self, svc: Api, emulator: ServiceNowEmulator) -> None:
        """sysparm_limit and sysparm_offset page the list; Link points to the next page."""
        incident = svc.create()
        for index in range(3):
            attached(svc, incident["sys_id"], file_name=f"{index}.txt")

        response = files_of(svc, incident["sys_id"], sysparm_limit="2", sysparm_offset="2")

        assert response.headers["X-Total-Count"] == "3"
        assert [row["file_name"] for row in response.json()["result"]] == ["2.txt"]
        links = dict(
            (rel, url)
            for url, rel in re.findall(r'<([^>]+)>;rel="(\w+)"', response.headers["Link"])
        )
        assert set(links) == {"first", "prev", "last"}
        assert links["prev"].startswith(emulator.base_url + ATTACHMENTS)
        assert "sysparm_offset=0" in links["prev"]

    def test_order_by(self, svc: Api) -> None:
        """ORDERBYDESC in the query orders the list."""
        incident = svc.create()
        attached(svc, incident["sys_id"], file_name="a.txt")
        attached(svc, incident["sys_id"], file_name="b.txt")
        query = f"table_sys_id={incident['sys_id']}^ORDERBYDESCfile_name"

        response = svc.get(ATTACHMENTS, params={"sysparm_query": query})

        assert [row["file_name"] for row in response.json()["result"]] == ["b.txt", "a.txt"]

    def test_table_api_reads_rows(self, svc: Api) -> None:
        """sys_attachment is readable through the Table API, and not writable."""
        incident = svc.create()
        result = attached(svc, incident["sys_id"])

        read = svc.get(
            "/api/now/table/sys_attachment", params={"sysparm_query": "table_name=incident"}
        )
        write = svc.post("/api/now/table/sys_attachment", json={"file_name": "x"})

        [row] = read.json()["result"]
        assert row["sys_id"] == result["sys_id"]
        assert row["size_bytes"] == "21"
        assert write.status_code == 403


class TestRead:
    def test_metadata(self, svc: Api) -> None:
        """GET /attachment/{sys_id} returns the file's metadata."""
        incident = svc.create()
        result = attached(svc, incident["sys_id"])

        response = svc.get(f"{ATTACHMENTS}/{result['sys_id']}")

        assert response.status_code == 200
        assert response.json()["result"] == result

    def test_download_bytes(self, svc: Api) -> None:
        """GET /attachment/{sys_id}/file returns the bytes under the file's own Content-Type."""
        incident = svc.create()
        result = attached(svc, incident["sys_id"], content=EVERY_BYTE, content_type="image/png")

        response = svc.get(f"{ATTACHMENTS}/{result['sys_id']}/file", headers={"Accept": "*/*"})

        assert response.status_code == 200
        assert response.content == EVERY_BYTE
        assert response.headers["Content-Type"] == "image/png"

    def test_text_type_unchanged(self, svc: Api) -> None:
        """A text/* content type is sent back as stored, without an added charset."""
        incident = svc.create()
        result = attached(svc, incident["sys_id"], content_type="text/plain")

        response = svc.get(f"{ATTACHMENTS}/{result['sys_id']}/file")

        assert response.headers["Content-Type"] == "text/plain"

    @pytest.mark.parametrize("suffix", ["", "/file"])
    def test_unknown_404(self, svc: Api, suffix: str) -> None:
        """An unknown attachment gets the instance's 404 body, for metadata and bytes."""
        response = svc.get(f"{ATTACHMENTS}/{MISSING_ID}{suffix}")

        assert response.status_code == 404
        assert response.json() == NOT_FOUND


class TestGuards:
    @pytest.mark.parametrize(
        ("method", "path"),
        [
            ("GET", ATTACHMENTS),
            ("GET", f"{ATTACHMENTS}/{MISSING_ID}"),
            ("GET", f"{ATTACHMENTS}/{MISSING_ID}/file"),
            ("POST", UPLOAD),
        ],
    )
    def test_needs_authentication(
        self, emulator: ServiceNowEmulator, method: str, path: str
    ) -> None:
        """Every attachment route responds 401 with the envelope when no credentials are sent."""
        anonymous = Api(emulator.base_url, emulator.ca_cert, None)

        response = anonymous.call(method, path)
        anonymous.close()

        assert response.status_code == 401
        assert response.json()["error"]["message"] == "User Not Authenticated"

    def test_throttled(self, svc: Api, emulator: ServiceNowEmulator) -> None:
        """An injected rate limit applies to the attachment routes too."""
        incident = svc.create()
        emulator.inject_429(1, retry_after=4)

        throttled = upload(svc, incident["sys_id"])
        after = upload(svc, incident["sys_id"])

        assert throttled.status_code == 429
        assert throttled.headers["Retry-After"] == "4"
        assert after.status_code == 201

    def test_fault_injection(self, svc: Api, emulator: ServiceNowEmulator) -> None:
        """Injected faults apply to the attachment routes too."""
        incident = svc.create()
        emulator.faults.configure(FaultPlan(error_rate=1.0, error_statuses=(503,)))

        response = files_of(svc, incident["sys_id"])

        assert response.status_code == 503
        assert response.json()["status"] == "failure"


class TestNotices:
    def test_attach_notifies(
        self, agent: Api, svc: Api, emulator: ServiceNowEmulator, sink: WebhookSink
    ) -> None:
        """Attaching a file posts a signed notice naming the record and the new attachment."""
        incident = svc.create()
        assert emulator.drain_webhooks(5)
        sink.deliveries.clear()

        result = attached(agent, incident["sys_id"])
        assert emulator.drain_webhooks(5)

        [delivery] = sink.deliveries
        notice = json.loads(delivery.body)
        assert notice == {
            "event": "incident.attachment_added",
            "table": "incident",
            "sys_id": incident["sys_id"],
            "number": incident["number"],
            "sys_updated_on": incident["sys_updated_on"],
            "sys_mod_count": "0",
            "updated_by": "agent.l1",
            "changed": [],
            "attachment_sys_id": result["sys_id"],
        }
        assert delivery.headers["X-Snow-Signature"] == sign(WEBHOOK_SECRET, delivery.body)
        assert len(delivery.headers["X-Snow-Delivery-Id"]) == 32

    def test_refused_upload_silent(
        self, svc: Api, emulator: ServiceNowEmulator, sink: WebhookSink
    ) -> None:
        """A refused upload sends no notice."""
        incident = svc.create()
        assert emulator.drain_webhooks(5)
        sink.deliveries.clear()
        emulator.state.max_attachment_bytes = 1

        upload(svc, incident["sys_id"], content=b"too big")
        assert emulator.drain_webhooks(5)

        assert sink.deliveries == []

    def test_listeners_get_parent(self, emulator: ServiceNowEmulator) -> None:
        """State listeners see the sys_attachment insert together with the record it is on."""
        incident = emulator.state.insert("incident", {"short_description": "x"}, user="agent.l1")
        events: list[ChangeEvent] = []
        emulator.state.listeners.append(events.append)

        try:
            row = emulator.state.add_attachment(
                "incident", incident["sys_id"], "a.txt", b"a", "text/plain", user="agent.l1"
            )
        finally:
            emulator.state.listeners.remove(events.append)

        [event] = events
        assert event.table == "sys_attachment"
        assert event.operation == "insert"
        assert event.record["sys_id"] == row["sys_id"]
        assert event.parent is not None
        assert event.parent["sys_id"] == incident["sys_id"]


class TestAgent:
    @pytest.fixture
    def person(self, emulator: ServiceNowEmulator) -> Iterator[ServiceNowAgent]:
        with ServiceNowAgent(emulator.base_url, emulator.ca_cert, *AGENT) as person:
            yield person

    def test_attach_list_download(
        self, person: ServiceNowAgent, emulator: ServiceNowEmulator
    ) -> None:
        """The agent attaches a file, lists it and reads its bytes back."""
        incident = person.create_incident(short_description="Printer jam")

        result = person.attach(incident["sys_id"], "scan.pdf", EVERY_BYTE, "application/pdf")

        [listed] = person.list_attachments(incident["sys_id"])
        assert listed["sys_id"] == result["sys_id"]
        assert listed["sys_created_by"] == "agent.l1"
        assert person.download(result["sys_id"]) == EVERY_BYTE
        [stored] = emulator.state.attachments(incident["sys_id"])
        assert stored["file_name"] == "scan.pdf"

    def test_reset_drops_files(self, person: ServiceNowAgent, emulator: ServiceNowEmulator) -> None:
        """reset() removes every attachment and its bytes."""
        incident = person.create_incident(short_description="Printer jam")
        result = person.attach(incident["sys_id"], "scan.pdf", b"%PDF")

        emulator.reset()

        assert emulator.state.rows("sys_attachment") == []
        assert emulator.state.attachment_content(result["sys_id"]) is None

    def test_attach_error_raises(self, person: ServiceNowAgent) -> None:
        """An upload the instance refuses raises HTTPError."""
        with pytest.raises(requests.HTTPError):
            person.attach(MISSING_ID, "scan.pdf", b"%PDF")


def test_incident_list_untouched(svc: Api) -> None:
    """Attachments do not show up as incidents."""
    incident = svc.create()
    attached(svc, incident["sys_id"])

    response = svc.get(INCIDENTS)

    assert len(response.json()["result"]) == 1
