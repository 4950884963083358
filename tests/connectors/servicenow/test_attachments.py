"""Files through the ServiceNow connector: list, download, upload, errors and polling."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from structlog.testing import capture_logs

from tests.connectors.servicenow.conftest import MakeSettings
from tests.emulators.servicenow.support import FakeClock
from tierbridge.connectors.servicenow.connector import ServiceNowConnector
from tierbridge.connectors.servicenow.settings import ServiceNowSettings
from tierbridge.core.errors import (
    NotFoundError,
    PermanentError,
    RejectedError,
    RetryableError,
    ThrottledError,
)
from tierbridge.core.model import AttachmentMeta
from tierbridge.emulators.servicenow import ServiceNowEmulator

EVERY_BYTE = bytes(range(256))
# An en dash, an umlaut and kanji, which must survive the query string and the JSON response.
FOREIGN_NAME = "Prüfbericht \u2013 東京.pdf"
MISSING_ID = "0" * 32
SYS_ID = re.compile(r"[0-9a-f]{32}")


def seed_incident(emulator: ServiceNowEmulator, **values: Any) -> dict[str, str]:
    return emulator.state.insert(
        "incident", {"short_description": "VPN", **values}, user="agent.l1"
    )


def attach(
    emulator: ServiceNowEmulator, sys_id: str, name: str = "log.txt", content: bytes = b"log"
) -> dict[str, str]:
    """Attach a file as the L1 agent, straight into the emulator's state."""
    return emulator.state.add_attachment(
        "incident", sys_id, name, content, "text/plain", user="agent.l1"
    )


def api_paths(logs: Sequence[Mapping[str, Any]]) -> list[str]:
    return [f"{line['method']} {line['path']}" for line in logs if line["event"] == "api_call"]


class TestRoundTrip:
    def test_supports_attachments(self) -> None:
        """The connector declares that it implements the attachment methods."""
        assert ServiceNowConnector.supports_attachments is True

    def test_upload_list_download(
        self, connector: ServiceNowConnector, emulator: ServiceNowEmulator
    ) -> None:
        """Every byte value and a non-ASCII name survive the upload, the list and the read."""
        incident = seed_incident(emulator)

        uploaded = connector.upload_attachment(
            incident["sys_id"], FOREIGN_NAME, EVERY_BYTE, "application/pdf"
        )
        listed = connector.list_attachments(incident["sys_id"])
        content = connector.download_attachment(incident["sys_id"], listed[0])

        assert SYS_ID.fullmatch(uploaded.source_id)
        assert uploaded.filename == FOREIGN_NAME
        assert uploaded.size == 256
        assert uploaded.content_type == "application/pdf"
        assert uploaded.sha256 is None
        assert listed == [uploaded]
        assert content == EVERY_BYTE
        [stored] = emulator.state.attachments(incident["sys_id"])
        assert stored["sys_created_by"] == "svc.tierbridge"

    def test_unknown_type_sent_as_octet_stream(
        self, connector: ServiceNowConnector, emulator: ServiceNowEmulator
    ) -> None:
        """A file without a content type is sent as application/octet-stream."""
        incident = seed_incident(emulator)

        uploaded = connector.upload_attachment(incident["sys_id"], "blob.bin", b"\x00\x01", None)

        assert uploaded.content_type == "application/octet-stream"

    def test_list_oldest_first_all_pages(
        self, connector: ServiceNowConnector, emulator: ServiceNowEmulator, clock: FakeClock
    ) -> None:
        """The list reads every page (page_size 2) and contains only this record's files."""
        incident = seed_incident(emulator)
        other = seed_incident(emulator)
        for index in range(5):
            attach(emulator, incident["sys_id"], f"{index}.txt")
            attach(emulator, other["sys_id"], f"other-{index}.txt")
            clock.advance(60)

        names = [meta.filename for meta in connector.list_attachments(incident["sys_id"])]

        assert names == ["0.txt", "1.txt", "2.txt", "3.txt", "4.txt"]

    def test_list_same_second_by_sys_id(
        self, connector: ServiceNowConnector, emulator: ServiceNowEmulator
    ) -> None:
        """Files attached in the same second are listed in sys_id order."""
        incident = seed_incident(emulator)
        ids = [attach(emulator, incident["sys_id"], f"{n}.txt")["sys_id"] for n in range(3)]

        listed = [meta.source_id for meta in connector.list_attachments(incident["sys_id"])]

        assert listed == sorted(ids)

    def test_list_empty(self, connector: ServiceNowConnector, emulator: ServiceNowEmulator) -> None:
        """A record without files gives an empty list."""
        incident = seed_incident(emulator)

        assert connector.list_attachments(incident["sys_id"]) == []

    def test_case_table(self, make_settings: MakeSettings, emulator: ServiceNowEmulator) -> None:
        """A connector on CSM cases attaches to and lists files of cases."""
        snow = ServiceNowConnector("snow", make_settings(table="sn_customerservice_case"))
        case = emulator.state.insert(
            "sn_customerservice_case", {"short_description": "Refund"}, user="agent.l1"
        )

        uploaded = snow.upload_attachment(case["sys_id"], "receipt.pdf", b"%PDF-1.7", None)
        listed = snow.list_attachments(case["sys_id"])
        snow.close()

        assert listed == [uploaded]
        [stored] = emulator.state.attachments(case["sys_id"])
        assert stored["table_name"] == "sn_customerservice_case"

    def test_one_log_line_per_call(
        self, connector: ServiceNowConnector, emulator: ServiceNowEmulator
    ) -> None:
        """Each attachment call logs one line with the path template."""
        incident = seed_incident(emulator)

        with capture_logs() as logs:
            uploaded = connector.upload_attachment(incident["sys_id"], "a.txt", b"a", "text/plain")
            connector.download_attachment(incident["sys_id"], uploaded)

        assert api_paths(logs) == [
            "POST /api/now/attachment/file",
            "GET /api/now/attachment/{sys_id}/file",
        ]


class TestErrors:
    def test_upload_unknown_record(self, connector: ServiceNowConnector) -> None:
        """An upload to a missing record raises NotFoundError naming table and sys_id."""
        with pytest.raises(NotFoundError) as caught:
            connector.upload_attachment(MISSING_ID, "a.txt", b"a", "text/plain")

        assert caught.value.status == 404
        assert caught.value.record == f"incident/{MISSING_ID}"
        assert caught.value.operation == "upload_attachment"

    def test_download_unknown_file(self, connector: ServiceNowConnector) -> None:
        """Reading a file that no longer exists raises NotFoundError naming the attachment."""
        deleted = AttachmentMeta(source_id=MISSING_ID, filename="deleted.txt", size=3)

        with pytest.raises(NotFoundError) as caught:
            connector.download_attachment(MISSING_ID, deleted)

        assert caught.value.status == 404
        assert caught.value.record == f"sys_attachment/{MISSING_ID}"

    @pytest.mark.parametrize("operation", ["list", "download", "upload"])
    def test_throttled(
        self, connector: ServiceNowConnector, emulator: ServiceNowEmulator, operation: str
    ) -> None:
        """A 429 on any attachment call raises ThrottledError with the wait asked for."""
        incident = seed_incident(emulator)
        row = attach(emulator, incident["sys_id"])
        meta = AttachmentMeta(source_id=row["sys_id"], filename="log.txt", size=3)
        calls: dict[str, Callable[[], object]] = {
            "list": lambda: connector.list_attachments(incident["sys_id"]),
            "download": lambda: connector.download_attachment(incident["sys_id"], meta),
            "upload": lambda: connector.upload_attachment(incident["sys_id"], "b", b"b", None),
        }
        emulator.inject_429(1, retry_after=7)

        with pytest.raises(ThrottledError) as caught:
            calls[operation]()

        assert caught.value.status == 429
        assert caught.value.retry_after == 7

    def test_over_instance_maximum(
        self, connector: ServiceNowConnector, emulator: ServiceNowEmulator
    ) -> None:
        """A file over the instance's maximum raises RejectedError with the instance's reason."""
        incident = seed_incident(emulator)
        emulator.state.max_attachment_bytes = 4

        with pytest.raises(RejectedError) as caught:
            connector.upload_attachment(incident["sys_id"], "big.bin", b"12345", None)

        assert caught.value.status == 400
        assert "com.glide.attachment.max_size" in str(caught.value)

    def test_empty_name_rejected(
        self, connector: ServiceNowConnector, emulator: ServiceNowEmulator
    ) -> None:
        """A file without a name is refused before any request."""
        incident = seed_incident(emulator)

        with capture_logs() as logs, pytest.raises(RejectedError, match="file_name"):
            connector.upload_attachment(incident["sys_id"], " ", b"a", None)

        assert api_paths(logs) == []

    def test_short_download_retryable(
        self, connector: ServiceNowConnector, emulator: ServiceNowEmulator
    ) -> None:
        """Bytes that do not match the listed size raise RetryableError."""
        incident = seed_incident(emulator)
        row = attach(emulator, incident["sys_id"], content=b"abc")
        listed_bigger = AttachmentMeta(source_id=row["sys_id"], filename="log.txt", size=4)

        with pytest.raises(RetryableError, match="read 3 bytes but the metadata lists 4"):
            connector.download_attachment(incident["sys_id"], listed_bigger)

    def test_download_needs_sys_id(self, connector: ServiceNowConnector) -> None:
        """An attachment id that is not a sys_id is refused before any request."""
        odd = AttachmentMeta(source_id="../table/incident", filename="x")

        with capture_logs() as logs, pytest.raises(RejectedError, match="not a sys_id"):
            connector.download_attachment(MISSING_ID, odd)

        assert api_paths(logs) == []

    def test_list_rejects_query_separator(self, connector: ServiceNowConnector) -> None:
        """A ticket id carrying '^' would extend the encoded query, so it is refused."""
        with pytest.raises(RejectedError, match="encoded-query separator"):
            connector.list_attachments(f"{MISSING_ID}^NQtable_name=sys_user")


BASE = "https://127.0.0.1:9"
UPLOAD_URL = f"{BASE}/api/now/attachment/file"
LIST_URL = f"{BASE}/api/now/attachment"
TICKET = "6b1f3c2ad74e4a10b8e2f0c9a1d2e3f4"
METADATA = {
    "sys_id": "a1b2c3d4e5f60718293a4b5c6d7e8f90",
    "file_name": "vpn-log.txt",
    "content_type": "text/plain",
    "size_bytes": "4",
    "table_name": "incident",
    "table_sys_id": TICKET,
    "sys_created_on": "2024-05-01 09:16:03",
    "sys_mod_count": "0",
}


class TestConfirmation:
    """Responses the emulator never gives, replayed with `responses`."""

    @pytest.fixture
    def offline(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> Iterator[ServiceNowConnector]:
        monkeypatch.setenv("TB_TEST_SNOW_OFFLINE_PASSWORD", "offline-password")
        bundle = tmp_path / "ca.pem"
        bundle.write_text("not used: responses answers before TLS\n")
        settings = ServiceNowSettings.model_validate(
            {
                "system": "servicenow",
                "base_url": BASE,
                "mapping": tmp_path / "m.yaml",
                "auth": {
                    "type": "basic",
                    "username": "svc.tierbridge",
                    "password": {"env": "TB_TEST_SNOW_OFFLINE_PASSWORD"},
                },
                "ca_bundle": bundle,
                "timeout_seconds": 7,
            }
        )
        snow = ServiceNowConnector("snow", settings)
        yield snow
        snow.close()

    @responses.activate
    def test_request_shape(self, offline: ServiceNowConnector) -> None:
        """The upload sends the raw bytes, the file's type, the three parameters and a timeout."""
        responses.post(UPLOAD_URL, json={"result": METADATA}, status=201)

        offline.upload_attachment(TICKET, FOREIGN_NAME, b"abcd", "text/plain")

        sent = responses.calls[0].request
        assert sent.body == b"abcd"
        assert sent.headers["Content-Type"] == "text/plain"
        query = parse_qs(urlsplit(sent.url or "").query)
        assert query == {
            "table_name": ["incident"],
            "table_sys_id": [TICKET],
            "file_name": [FOREIGN_NAME],
        }
        assert getattr(sent, "req_kwargs", {})["timeout"] == 7

    @responses.activate
    def test_other_size_rejected(self, offline: ServiceNowConnector) -> None:
        """A response confirming another size than was sent raises RejectedError."""
        responses.post(UPLOAD_URL, json={"result": {**METADATA, "size_bytes": "3"}}, status=201)

        with pytest.raises(RejectedError, match="confirms 3 bytes, not the 4 bytes sent") as caught:
            offline.upload_attachment(TICKET, "vpn-log.txt", b"abcd", "text/plain")

        assert caught.value.record == f"incident/{TICKET}"

    @responses.activate
    def test_no_sys_id_rejected(self, offline: ServiceNowConnector) -> None:
        """A response without a sys_id raises RejectedError."""
        responses.post(UPLOAD_URL, json={"result": {**METADATA, "sys_id": ""}}, status=201)

        with pytest.raises(RejectedError, match="no sys_id"):
            offline.upload_attachment(TICKET, "vpn-log.txt", b"abcd", "text/plain")

    @responses.activate
    def test_unreadable_body_rejected(self, offline: ServiceNowConnector) -> None:
        """A 201 whose body is not the metadata raises RejectedError, not a retryable error."""
        responses.post(UPLOAD_URL, body="<html>login</html>", status=201)

        with pytest.raises(RejectedError, match="no attachment metadata"):
            offline.upload_attachment(TICKET, "vpn-log.txt", b"abcd", "text/plain")

    @responses.activate
    def test_list_without_count_retryable(self, offline: ServiceNowConnector) -> None:
        """A list response without X-Total-Count raises RetryableError, never a partial list."""
        responses.get(LIST_URL, json={"result": [METADATA]})

        with pytest.raises(RetryableError, match="X-Total-Count"):
            offline.list_attachments(TICKET)

    @responses.activate
    def test_list_unreadable_row(self, offline: ServiceNowConnector) -> None:
        """A row without file_name raises instead of being dropped from the list."""
        row = {**METADATA, "file_name": ""}
        responses.get(LIST_URL, json={"result": [row]}, headers={"X-Total-Count": "1"})

        with pytest.raises(PermanentError, match="unreadable attachment metadata"):
            offline.list_attachments(TICKET)


class TestPolling:
    """changed_since finds records whose only change is a new file."""

    START = datetime(2024, 5, 1, 7, 15, 42, tzinfo=UTC)

    def test_file_only_change_found(
        self, connector: ServiceNowConnector, emulator: ServiceNowEmulator, clock: FakeClock
    ) -> None:
        """A file attached after the watermark yields its record with a new, later version."""
        incident = seed_incident(emulator)
        clock.advance(300)
        attach(emulator, incident["sys_id"])
        watermark = self.START + timedelta(seconds=60)

        [record] = list(connector.changed_since(watermark))

        assert record.id == incident["sys_id"]
        assert record.version == "0000000000+20240501T072042Z"
        assert record.updated == self.START + timedelta(seconds=300)
        assert record.updated_by == "agent.l1"
        assert record.version > connector.get_record(incident["sys_id"]).version

    def test_later_field_change_wins(
        self, connector: ServiceNowConnector, emulator: ServiceNowEmulator, clock: FakeClock
    ) -> None:
        """A field change after the file gives the plain version, which sorts after the file's."""
        incident = seed_incident(emulator)
        clock.advance(300)
        attach(emulator, incident["sys_id"])
        watermark = self.START + timedelta(seconds=60)
        [with_file] = list(connector.changed_since(watermark))
        clock.advance(60)
        emulator.state.update("incident", incident["sys_id"], {"urgency": "1"}, user="agent.l1")

        [changed] = list(connector.changed_since(watermark))

        assert changed.version == "0000000001"
        assert changed.version > with_file.version
        assert changed.updated == self.START + timedelta(seconds=360)

    def test_same_second_counts_as_file(
        self, connector: ServiceNowConnector, emulator: ServiceNowEmulator
    ) -> None:
        """A file from the same second as the field change still extends the version."""
        incident = seed_incident(emulator)
        attach(emulator, incident["sys_id"])

        [record] = list(connector.changed_since(self.START))

        assert record.version == "0000000000+20240501T071542Z"

    def test_second_file_new_version(
        self, connector: ServiceNowConnector, emulator: ServiceNowEmulator, clock: FakeClock
    ) -> None:
        """A second file gives a version after the first file's, so a poll queues it again."""
        incident = seed_incident(emulator)
        watermark = self.START + timedelta(seconds=1)
        clock.advance(60)
        attach(emulator, incident["sys_id"], "a.txt")
        [first] = list(connector.changed_since(watermark))
        clock.advance(60)
        attach(emulator, incident["sys_id"], "b.txt")

        [second] = list(connector.changed_since(watermark))

        assert second.version > first.version
        assert second.version < "0000000001"

    def test_merged_in_change_order(
        self, connector: ServiceNowConnector, emulator: ServiceNowEmulator, clock: FakeClock
    ) -> None:
        """Field changes and files come oldest first, each record once."""
        watermark = self.START + timedelta(seconds=1)
        first = seed_incident(emulator)
        clock.advance(60)
        first = emulator.state.update("incident", first["sys_id"], {"urgency": "2"}, user="a")
        clock.advance(60)
        filed = seed_incident(emulator)
        clock.advance(60)
        attach(emulator, filed["sys_id"])
        clock.advance(60)
        last = seed_incident(emulator)
        clock.advance(60)
        attach(emulator, first["sys_id"])

        records = list(connector.changed_since(watermark))

        assert [record.id for record in records] == [
            filed["sys_id"],
            last["sys_id"],
            first["sys_id"],
        ]
        stamps = [record.updated for record in records]
        assert stamps == sorted(stamps)

    def test_file_on_old_record_found(
        self, connector: ServiceNowConnector, emulator: ServiceNowEmulator, clock: FakeClock
    ) -> None:
        """A file on a record whose fields changed before the watermark is found and read."""
        old = seed_incident(emulator, short_description="Old ticket")
        clock.advance(3600)
        watermark = clock.now - timedelta(seconds=10)
        attach(emulator, old["sys_id"])

        [record] = list(connector.changed_since(watermark))

        assert record.id == old["sys_id"]
        assert record.fields["short_description"] == "Old ticket"

    def test_deleted_record_skipped(
        self, connector: ServiceNowConnector, emulator: ServiceNowEmulator, clock: FakeClock
    ) -> None:
        """A file whose record was deleted since yields nothing."""
        incident = seed_incident(emulator)
        clock.advance(300)
        attach(emulator, incident["sys_id"])
        emulator.state.delete("incident", incident["sys_id"])

        assert list(connector.changed_since(self.START + timedelta(seconds=60))) == []

    def test_disabled_reads_no_files(
        self, make_settings: MakeSettings, emulator: ServiceNowEmulator, clock: FakeClock
    ) -> None:
        """With attachments disabled, files are not read and a file-only change is not found."""
        snow = ServiceNowConnector("snow", make_settings(attachments={"enabled": False}))
        incident = seed_incident(emulator)
        clock.advance(300)
        attach(emulator, incident["sys_id"])

        with capture_logs() as logs:
            found = list(snow.changed_since(self.START + timedelta(seconds=60)))
        snow.close()

        assert found == []
        assert "GET /api/now/attachment" not in api_paths(logs)

    def test_full_read_skips_files(
        self, connector: ServiceNowConnector, emulator: ServiceNowEmulator
    ) -> None:
        """changed_since(None) reads every record and no file list, so versions stay plain."""
        incident = seed_incident(emulator)
        attach(emulator, incident["sys_id"])

        with capture_logs() as logs:
            [record] = list(connector.changed_since(None))

        assert record.version == "0000000000"
        assert "GET /api/now/attachment" not in api_paths(logs)

    def test_file_read_throttled(
        self, connector: ServiceNowConnector, emulator: ServiceNowEmulator
    ) -> None:
        """A 429 on the file read raises, so the poll returns no partial result."""
        seed_incident(emulator)
        emulator.inject_429(1, retry_after=2)

        with pytest.raises(ThrottledError):
            list(connector.changed_since(self.START))
