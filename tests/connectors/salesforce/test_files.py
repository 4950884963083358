"""SalesforceConnector attachments: Files on Cases listed, read and written against the emulator."""

from __future__ import annotations

import gc
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pytest
import responses
from structlog.testing import capture_logs

from tests.connectors.salesforce.conftest import MakeSettings, seed_case, seed_file, user_id
from tests.emulators.salesforce.support import FakeClock
from tierbridge.connectors.salesforce import files
from tierbridge.connectors.salesforce.connector import SalesforceConnector
from tierbridge.connectors.salesforce.ids import normalize_id
from tierbridge.core.errors import (
    NotFoundError,
    RejectedError,
    RetryableError,
    ThrottledError,
)
from tierbridge.core.model import AttachmentMeta
from tierbridge.emulators.salesforce import INTEGRATION_USERNAME, SalesforceEmulator

EVERY_BYTE = bytes(range(256)) * 3
NAME = "Prüfbericht \u2013 東京.pdf"
VERSIONS = "/services/data/v62.0/sobjects/ContentVersion"


def api_calls(logs: Sequence[Mapping[str, Any]]) -> list[tuple[str, str]]:
    return [(line["method"], line["path"]) for line in logs if line.get("event") == "api_call"]


def test_supports_attachments() -> None:
    """The connector declares the attachment methods."""
    assert SalesforceConnector.supports_attachments is True


def test_round_trip(connector: SalesforceConnector, emulator: SalesforceEmulator) -> None:
    """Every byte value and a non-ASCII name survive upload, list and download unchanged."""
    case_id = seed_case(emulator)

    uploaded = connector.upload_attachment(case_id, NAME, EVERY_BYTE, "application/pdf")
    [listed] = connector.list_attachments(case_id)
    downloaded = connector.download_attachment(case_id, listed)

    assert uploaded == listed
    assert listed.source_id.startswith("068")
    assert len(listed.source_id) == 18
    assert listed.filename == NAME
    assert listed.size == len(EVERY_BYTE)
    assert listed.content_type == "application/pdf"
    assert listed.sha256 is None
    assert downloaded == EVERY_BYTE
    [stored] = emulator.state.files(case_id)
    assert stored.content == EVERY_BYTE
    assert stored.filename == NAME


def test_upload_version_shape(connector: SalesforceConnector, emulator: SalesforceEmulator) -> None:
    """An upload is a ContentVersion first published on the Case, titled without extension."""
    case_id = seed_case(emulator)

    meta = connector.upload_attachment(case_id, "trace.log", b"", None)

    version = emulator.state.get("ContentVersion", meta.source_id)
    integration = emulator.state.user_by_username(INTEGRATION_USERNAME)
    assert integration is not None
    assert version["FirstPublishLocationId"] == case_id
    assert version["Title"] == "trace"
    assert version["PathOnClient"] == "trace.log"
    assert version["ContentSize"] == 0
    assert version["CreatedById"] == integration["Id"]
    assert meta.size == 0
    assert meta.content_type is None


def test_list_oldest_first_paged(
    connector: SalesforceConnector, emulator: SalesforceEmulator, clock: FakeClock
) -> None:
    """Files come oldest first over pages of two; other Cases' and private files stay out."""
    case_id = seed_case(emulator)
    other = seed_case(emulator)
    names = ["c-first.txt", "a-second.csv", "b-third.png"]
    ids = []
    for name in names:
        ids.append(seed_file(emulator, case_id, name, name.encode()))
        clock.advance(60)
    seed_file(emulator, other, "other.txt")
    seed_file(emulator, None, "private.txt")

    with capture_logs() as logs:
        listed = connector.list_attachments(case_id)

    assert [item.source_id for item in listed] == ids
    assert [item.filename for item in listed] == names
    assert [item.size for item in listed] == [len(name) for name in names]
    assert [item.content_type for item in listed] == ["text/plain", "text/csv", "image/png"]
    assert ("GET", "/services/data/v62.0/query/{locator}") in api_calls(logs)


def test_list_empty(connector: SalesforceConnector, emulator: SalesforceEmulator) -> None:
    """A Case without files lists none."""
    case_id = seed_case(emulator)

    assert connector.list_attachments(case_id) == []


@pytest.mark.parametrize("ticket_id", ["not-an-id", "005Hs0000000H32IAE"])
def test_list_bad_case_id(connector: SalesforceConnector, ticket_id: str) -> None:
    """A malformed id or another object's id raise NotFoundError without a call."""
    with capture_logs() as logs, pytest.raises(NotFoundError):
        connector.list_attachments(ticket_id)

    assert api_calls(logs) == []


def test_list_throttled(connector: SalesforceConnector, emulator: SalesforceEmulator) -> None:
    """REQUEST_LIMIT_EXCEEDED on the listing raises ThrottledError."""
    case_id = seed_case(emulator)
    seed_file(emulator, case_id)
    emulator.inject_limit_exceeded(1)

    with pytest.raises(ThrottledError) as caught:
        connector.list_attachments(case_id)

    assert caught.value.status == 403
    assert caught.value.operation == "list_attachments"


def test_download_missing_version(
    connector: SalesforceConnector, emulator: SalesforceEmulator
) -> None:
    """A version the org does not have raises NotFoundError from its 404."""
    case_id = seed_case(emulator)
    version_id = normalize_id("068Hs00000ZZZZZ")
    missing = AttachmentMeta(source_id=version_id, filename="gone.pdf", size=3)

    with pytest.raises(NotFoundError) as caught:
        connector.download_attachment(case_id, missing)

    assert caught.value.status == 404
    assert caught.value.record == version_id


def test_download_not_a_version(
    connector: SalesforceConnector, emulator: SalesforceEmulator
) -> None:
    """A source id that is not a ContentVersion id raises NotFoundError without a call."""
    case_id = seed_case(emulator)
    foreign = AttachmentMeta(source_id="../../limits", filename="x")

    with capture_logs() as logs, pytest.raises(NotFoundError, match="ContentVersion"):
        connector.download_attachment(case_id, foreign)

    assert api_calls(logs) == []


def test_download_size_differs(
    connector: SalesforceConnector, emulator: SalesforceEmulator
) -> None:
    """Fewer bytes than the listing reported raise RetryableError, not a short file."""
    case_id = seed_case(emulator)
    seed_file(emulator, case_id, "a.bin", b"12345")
    [listed] = connector.list_attachments(case_id)
    inflated = listed.model_copy(update={"size": 6})

    with pytest.raises(RetryableError, match="5 bytes"):
        connector.download_attachment(case_id, inflated)


def test_download_throttled(connector: SalesforceConnector, emulator: SalesforceEmulator) -> None:
    """REQUEST_LIMIT_EXCEEDED on the download raises ThrottledError."""
    case_id = seed_case(emulator)
    seed_file(emulator, case_id)
    [listed] = connector.list_attachments(case_id)
    emulator.inject_limit_exceeded(1)

    with pytest.raises(ThrottledError):
        connector.download_attachment(case_id, listed)


def test_upload_throttled(connector: SalesforceConnector, emulator: SalesforceEmulator) -> None:
    """REQUEST_LIMIT_EXCEEDED on the insert raises ThrottledError and stores nothing."""
    case_id = seed_case(emulator)
    connector.get_record(case_id)
    emulator.inject_limit_exceeded(1)

    with pytest.raises(ThrottledError):
        connector.upload_attachment(case_id, "a.txt", b"x", "text/plain")

    assert emulator.state.files(case_id) == []


def test_upload_missing_case(connector: SalesforceConnector) -> None:
    """An unknown Case is rejected with the code and field, as RejectedError."""
    with pytest.raises(RejectedError) as caught:
        connector.upload_attachment(normalize_id("500Hs00000ZZZZZ"), "a.txt", b"x", None)

    assert caught.value.status == 400
    assert "FIELD_INTEGRITY_EXCEPTION" in str(caught.value)
    assert "FirstPublishLocationId" in str(caught.value)


def test_upload_not_resent_after_refresh(
    connector: SalesforceConnector, emulator: SalesforceEmulator
) -> None:
    """An insert rejected for an expired session is not sent twice."""
    case_id = seed_case(emulator)
    connector.get_record(case_id)
    emulator.expire_sessions()

    with pytest.raises(RetryableError, match="not idempotent"):
        connector.upload_attachment(case_id, "a.txt", b"x", None)

    assert emulator.state.files(case_id) == []


def test_upload_one_line_per_call(
    connector: SalesforceConnector, emulator: SalesforceEmulator
) -> None:
    """An upload is an insert and a read-back, each logged once, without the bytes."""
    case_id = seed_case(emulator)
    connector.get_record(case_id)

    with capture_logs() as logs:
        connector.upload_attachment(case_id, NAME, b"secret-bytes", None)

    assert api_calls(logs) == [("POST", f"{VERSIONS}/"), ("GET", f"{VERSIONS}/{{id}}")]
    assert "secret-bytes" not in repr(logs)
    assert "c2VjcmV0LWJ5dGVz" not in repr(logs)


def test_upload_too_large_not_sent(
    connector: SalesforceConnector, emulator: SalesforceEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file whose JSON body would exceed the org's limit is rejected before any call."""
    case_id = seed_case(emulator)
    monkeypatch.setattr(files, "MAX_JSON_BODY_BYTES", 1000)

    with capture_logs() as logs, pytest.raises(RejectedError, match="at most 1000"):
        connector.upload_attachment(case_id, "big.bin", bytes(800), None)

    assert api_calls(logs) == []
    assert emulator.state.files(case_id) == []


def test_upload_bad_name_not_sent(
    connector: SalesforceConnector, emulator: SalesforceEmulator
) -> None:
    """An empty file name, or one over 500 characters, is rejected before any call."""
    case_id = seed_case(emulator)

    for name in ("", "x" * 497 + ".pdf"):
        with pytest.raises(RejectedError, match="PathOnClient"):
            connector.upload_attachment(case_id, name, b"x", None)

    assert emulator.state.files(case_id) == []


@pytest.fixture(scope="module")
def small_org(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SalesforceEmulator]:
    """An org whose request limit a 4 KB file exceeds."""
    with SalesforceEmulator(
        tls_dir=tmp_path_factory.mktemp("sf-small-tls"), max_request_bytes=4096
    ) as running:
        yield running
        gc.collect()


def test_org_size_limit_rejected(
    small_org: SalesforceEmulator, make_settings: MakeSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The org's own request-size error raises RejectedError naming JSON_PARSER_ERROR."""
    monkeypatch.setattr(files, "MAX_JSON_BODY_BYTES", 10**9)
    settings = make_settings(base_url=small_org.base_url, ca_bundle=small_org.ca_cert)
    connector = SalesforceConnector("sf-small", settings)
    case_id = seed_case(small_org)

    try:
        with pytest.raises(RejectedError) as caught:
            connector.upload_attachment(case_id, "big.bin", bytes(4096), None)
    finally:
        connector.close()

    assert caught.value.status == 400
    assert "JSON_PARSER_ERROR" in str(caught.value)
    assert small_org.state.files(case_id) == []


@pytest.fixture
def read_back(emulator: SalesforceEmulator) -> Iterator[responses.RequestsMock]:
    """Replace the read-back of new versions; every other request reaches the emulator."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_passthru(emulator.base_url)
        yield mock


def version_url(emulator: SalesforceEmulator) -> re.Pattern[str]:
    return re.compile(re.escape(f"{emulator.base_url}{VERSIONS}/") + r"068\w+\?")


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"ContentSize": 5}, "stored 5 bytes, not the 6 sent"),
        ({"ContentSize": None}, "stored None bytes"),
        ({"Checksum": "0" * 32}, "MD5 Checksum differs"),
        ({"Id": None}, "another id or none"),
        ({"Id": normalize_id("068Hs00000ZZZZZ")}, "another id or none"),
    ],
)
def test_upload_unconfirmed(
    connector: SalesforceConnector,
    emulator: SalesforceEmulator,
    read_back: responses.RequestsMock,
    changes: dict[str, Any],
    reason: str,
) -> None:
    """A read-back that does not match the bytes sent raises RejectedError."""
    case_id = seed_case(emulator)

    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        version_id = request.url.split("?")[0].rsplit("/", 1)[1]
        body = {
            "Id": version_id,
            "ContentSize": 6,
            "PathOnClient": "a.txt",
            "Checksum": "",
            **changes,
        }
        return 200, {"Content-Type": "application/json"}, json.dumps(body)

    read_back.add_callback(responses.GET, version_url(emulator), callback=answer)

    with pytest.raises(RejectedError, match=reason) as caught:
        connector.upload_attachment(case_id, "a.txt", b"123456", None)

    assert "not confirmed" in str(caught.value)


def test_upload_create_without_id(
    connector: SalesforceConnector, emulator: SalesforceEmulator, read_back: responses.RequestsMock
) -> None:
    """A 201 insert response without an id raises RejectedError."""
    case_id = seed_case(emulator)
    read_back.add(
        responses.POST,
        f"{emulator.base_url}{VERSIONS}/",
        json={"success": True, "errors": []},
        status=201,
    )

    with pytest.raises(RejectedError, match="no record id"):
        connector.upload_attachment(case_id, "a.txt", b"x", None)


def test_agent_file_listed(connector: SalesforceConnector, emulator: SalesforceEmulator) -> None:
    """A file the agent attached is listed under the name it was uploaded with."""
    case_id = seed_case(emulator)
    version_id = seed_file(emulator, case_id, "Screenshot 2024-05-01.PNG", b"png")

    [listed] = connector.list_attachments(case_id)

    assert listed.source_id == version_id
    assert listed.filename == "Screenshot 2024-05-01.PNG"
    assert listed.content_type == "image/png"
    assert emulator.state.get("ContentVersion", version_id)["CreatedById"] == user_id(emulator)


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("report.PDF", "application/pdf"),
        ("a.tar.gz", None),
        ("noextension", None),
        (".hidden", None),
        ("notes.txt", "text/plain"),
        ("data:x.pdf", "application/pdf"),
    ],
)
def test_guess_type(filename: str, expected: str | None) -> None:
    """The media type comes from the extension, in any case, or is None."""
    assert files.guess_type(filename) == expected
