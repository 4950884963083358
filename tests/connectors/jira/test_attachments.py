from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import responses
from structlog.testing import capture_logs

from tests.connectors.jira.conftest import SettingsFactory
from tests.emulators.jira.support import AGENT, FakeClock, WebhookSink
from tierbridge.connectors.jira.connector import JiraConnector
from tierbridge.core.errors import (
    NotFoundError,
    PermanentError,
    RejectedError,
    RetryableError,
    ThrottledError,
)
from tierbridge.core.model import AttachmentMeta
from tierbridge.emulators.jira import JiraEmulator
from tierbridge.emulators.jira.agent import JiraAgent

ALL_BYTES = bytes(range(256))
FILENAME = "Prüfbericht – 東京.pdf"  # noqa: RUF001 - a non-ASCII dash on purpose
#: No server listens here; the `responses` tests never open a connection.
MOCK_BASE = "https://127.0.0.1:9"
UPLOAD_URL = f"{MOCK_BASE}/rest/api/3/issue/10000/attachments"
CONTENT_URL = f"{MOCK_BASE}/rest/api/3/attachment/content/10300"


@pytest.fixture
def jira_agent(emulator: JiraEmulator) -> Iterator[JiraAgent]:
    person = JiraAgent(emulator.base_url, emulator.ca_cert, *AGENT)
    yield person
    person.close()


@pytest.fixture
def mocked(make_settings: SettingsFactory) -> Iterator[JiraConnector]:
    """A connector whose HTTP calls go to `responses` mocks instead of the emulator."""
    connector = JiraConnector("jira-l2", make_settings(base_url=MOCK_BASE))
    yield connector
    connector.close()


def _issue(connector: JiraConnector, summary: str = "VPN drops") -> str:
    return connector.create_record({"summary": summary}, f"snow:{summary}").id


def _listed(item_id: str, size: int = 3) -> dict[str, Any]:
    return {"id": item_id, "filename": "a.txt", "size": size, "mimeType": "text/plain"}


def test_connector_supports_attachments() -> None:
    """The Jira connector declares the attachment methods."""
    assert JiraConnector.supports_attachments is True


def test_list_empty(connector: JiraConnector) -> None:
    """An issue without files gives an empty list."""
    issue_id = _issue(connector)

    assert connector.list_attachments(issue_id) == []


def test_upload_list_download_round_trip(connector: JiraConnector, emulator: JiraEmulator) -> None:
    """All 256 byte values and a non-ASCII file name survive upload, listing and download."""
    issue_id = _issue(connector)

    uploaded = connector.upload_attachment(issue_id, FILENAME, ALL_BYTES, "application/pdf")
    listed = connector.list_attachments(issue_id)
    downloaded = connector.download_attachment(issue_id, listed[0])

    assert uploaded == AttachmentMeta(
        source_id="10300", filename=FILENAME, size=256, content_type="application/pdf"
    )
    assert listed == [uploaded]
    assert downloaded == ALL_BYTES
    stored = emulator.attachments(issue_id)[0]
    assert stored.filename == FILENAME
    assert stored.content == ALL_BYTES


def test_upload_without_type(connector: JiraConnector) -> None:
    """A file without a content type is sent as application/octet-stream."""
    issue_id = _issue(connector)

    uploaded = connector.upload_attachment(issue_id, "dump", b"\x00", None)

    assert uploaded.content_type == "application/octet-stream"


def test_upload_empty_file(connector: JiraConnector) -> None:
    """An empty file is confirmed with size 0, where the jira library's helper would raise."""
    issue_id = _issue(connector)

    uploaded = connector.upload_attachment(issue_id, "empty.txt", b"", "text/plain")

    assert uploaded.size == 0
    assert connector.download_attachment(issue_id, uploaded) == b""


def test_list_oldest_first(
    connector: JiraConnector, jira_agent: JiraAgent, clock: FakeClock
) -> None:
    """Files come back oldest first, including files that another user attached."""
    issue_id = _issue(connector)
    connector.upload_attachment(issue_id, "first.txt", b"1", "text/plain")
    clock.advance(60)
    jira_agent.attach(issue_id, "second.txt", b"22", "text/plain")
    clock.advance(60)
    connector.upload_attachment(issue_id, "third.txt", b"333", "text/plain")

    listed = connector.list_attachments(issue_id)

    assert [item.filename for item in listed] == ["first.txt", "second.txt", "third.txt"]
    assert [item.size for item in listed] == [1, 2, 3]


def test_list_sorts_by_created_then_id(mocked: JiraConnector) -> None:
    """An attachment field out of order is sorted by created time, then by numeric id."""
    items = [
        {**_listed("10310"), "created": "2024-05-01T07:00:00.000+0000"},
        {**_listed("10302"), "created": "2024-05-01T08:59:00.000+0200"},
        {**_listed("9990"), "created": "2024-05-01T09:00:00.000+0200"},
    ]
    with responses.RequestsMock() as mock:
        mock.get(f"{MOCK_BASE}/rest/api/3/issue/10000", json={"fields": {"attachment": items}})

        listed = mocked.list_attachments("10000")

    assert [item.source_id for item in listed] == ["10302", "9990", "10310"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "no attachment field"),
        ({"attachment": [{"id": "1", "filename": "a"}]}, "unreadable attachment entry"),
        (
            {"attachment": [{**_listed("1"), "size": "3", "created": "2024-05-01T07:00:00Z"}]},
            "size is not a whole number",
        ),
        (
            {"attachment": [{**_listed("1"), "created": "yesterday"}]},
            "unreadable attachment entry",
        ),
    ],
)
def test_list_unreadable_raises(
    mocked: JiraConnector, fields: dict[str, Any], message: str
) -> None:
    """A listing that cannot be read in full raises instead of returning part of it."""
    with responses.RequestsMock() as mock:
        mock.get(f"{MOCK_BASE}/rest/api/3/issue/10000", json={"fields": fields})

        with pytest.raises(PermanentError, match=message):
            mocked.list_attachments("10000")


def test_list_unknown_issue(connector: JiraConnector) -> None:
    """Listing the files of an unknown issue raises NotFoundError."""
    with pytest.raises(NotFoundError) as caught:
        connector.list_attachments("L2-404")

    assert caught.value.status == 404
    assert caught.value.operation == "list attachments"


def test_upload_unknown_issue(connector: JiraConnector) -> None:
    """Uploading to an unknown issue raises NotFoundError."""
    with pytest.raises(NotFoundError):
        connector.upload_attachment("L2-404", "a.txt", b"a", "text/plain")


def test_download_unknown_attachment(connector: JiraConnector) -> None:
    """Downloading an attachment that does not exist raises NotFoundError."""
    missing = AttachmentMeta(source_id="99999", filename="gone.txt", size=1)

    with pytest.raises(NotFoundError):
        connector.download_attachment("10000", missing)


def test_download_rejects_non_numeric_id(mocked: JiraConnector) -> None:
    """An id that is not a number is rejected before any call, so it never reaches a URL."""
    odd = AttachmentMeta(source_id="../../myself", filename="x")

    with responses.RequestsMock() as mock:
        with pytest.raises(RejectedError, match="numbers"):
            mocked.download_attachment("10000", odd)
        calls = len(mock.calls)

    assert calls == 0


def test_upload_over_site_limit(connector: JiraConnector, emulator: JiraEmulator) -> None:
    """A file over the site's limit gets 413, raised as RejectedError."""
    issue_id = _issue(connector)
    emulator.attachment_max_bytes = 4

    with pytest.raises(RejectedError) as caught:
        connector.upload_attachment(issue_id, "big.bin", b"12345", None)

    assert caught.value.status == 413
    assert emulator.attachments(issue_id) == []


@pytest.mark.parametrize(
    "operation",
    ["list", "upload", "download"],
)
def test_throttled(connector: JiraConnector, emulator: JiraEmulator, operation: str) -> None:
    """A 429 on any attachment call raises ThrottledError with Jira's Retry-After."""
    issue_id = _issue(connector)
    uploaded = connector.upload_attachment(issue_id, "a.txt", b"a", "text/plain")
    emulator.inject_429(1, retry_after=2)

    calls: dict[str, Callable[[], object]] = {
        "list": lambda: connector.list_attachments(issue_id),
        "upload": lambda: connector.upload_attachment(issue_id, "b.txt", b"b", "text/plain"),
        "download": lambda: connector.download_attachment(issue_id, uploaded),
    }

    with pytest.raises(ThrottledError) as caught:
        calls[operation]()

    assert caught.value.retry_after == 2.0
    assert caught.value.status == 429


def test_server_error_retryable(connector: JiraConnector, emulator: JiraEmulator) -> None:
    """A 503 on a download raises RetryableError with the status."""
    issue_id = _issue(connector)
    uploaded = connector.upload_attachment(issue_id, "a.txt", b"a", "text/plain")
    emulator.inject_error(503)

    with pytest.raises(RetryableError) as caught:
        connector.download_attachment(issue_id, uploaded)

    assert caught.value.status == 503
    assert caught.value.operation == "download attachment"


def test_upload_sends_multipart_with_token(mocked: JiraConnector) -> None:
    """The upload is one multipart part named `file`, with X-Atlassian-Token: no-check."""
    created = [{"id": "10300", "filename": FILENAME, "size": 256, "mimeType": "application/pdf"}]
    with responses.RequestsMock() as mock:
        mock.post(UPLOAD_URL, json=created)

        mocked.upload_attachment("10000", FILENAME, ALL_BYTES, "application/pdf")
        request = mock.calls[0].request

    assert request.headers["X-Atlassian-Token"] == "no-check"
    assert request.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert isinstance(request.body, bytes)
    assert b'name="file"; filename="' + FILENAME.encode() + b'"' in request.body
    assert ALL_BYTES in request.body


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([_listed("10300", size=255)], "stored 255 bytes of the 256 sent"),
        ([{**_listed("10300"), "size": None}], "stored None bytes"),
        ([{"filename": "a.txt", "size": 256}], "without an id"),
        ([], "exactly one attachment"),
        ([_listed("10300", 256), _listed("10301", 256)], "exactly one attachment"),
        ({"id": "10300", "size": 256}, "exactly one attachment"),
        ([{"id": "10300", "size": 256}], "unreadable attachment"),
    ],
)
def test_upload_not_confirmed(mocked: JiraConnector, body: object, message: str) -> None:
    """A response without one attachment of the sent size raises RejectedError."""
    with responses.RequestsMock() as mock:
        mock.post(UPLOAD_URL, json=body)

        with pytest.raises(RejectedError, match=message) as caught:
            mocked.upload_attachment("10000", "a.txt", ALL_BYTES, "text/plain")

    assert caught.value.operation == "upload attachment"
    assert caught.value.record == "10000"


def test_upload_response_not_json(mocked: JiraConnector) -> None:
    """A 200 whose body is not JSON does not confirm the upload."""
    with responses.RequestsMock() as mock:
        mock.post(UPLOAD_URL, body="<html>ok</html>", content_type="text/html")

        with pytest.raises(RejectedError, match="exactly one attachment"):
            mocked.upload_attachment("10000", "a.txt", b"abc", "text/plain")


def test_download_asks_for_no_redirect(mocked: JiraConnector) -> None:
    """The download requests the bytes themselves with `redirect=false`."""
    with responses.RequestsMock() as mock:
        mock.get(CONTENT_URL, body=b"abc")

        content = mocked.download_attachment("10000", AttachmentMeta(**_meta("10300", 3)))
        url = mock.calls[0].request.url

    assert content == b"abc"
    assert url == f"{CONTENT_URL}?redirect=false"


def test_download_follows_same_host_redirect(mocked: JiraConnector) -> None:
    """A 303 to the configured host is followed once, with the connector's credentials."""
    media = f"{MOCK_BASE}/file/5f6e/binary?token=t0k3n"
    with responses.RequestsMock() as mock:
        mock.get(CONTENT_URL, status=303, headers={"Location": media})
        mock.get(media, body=ALL_BYTES)

        content = mocked.download_attachment("10000", AttachmentMeta(**_meta("10300", 256)))
        second = mock.calls[1].request

    assert content == ALL_BYTES
    assert second.headers["Authorization"].startswith("Basic ")


def test_download_refuses_other_host(mocked: JiraConnector) -> None:
    """A 303 to another host is not followed, so the credentials stay on the site."""
    with responses.RequestsMock() as mock:
        mock.get(
            CONTENT_URL,
            status=303,
            headers={"Location": "https://api.media.atlassian.com/file/5f6e/binary?token=t"},
        )

        with pytest.raises(PermanentError, match="not followed") as caught:
            mocked.download_attachment("10000", AttachmentMeta(**_meta("10300", 3)))
        calls = len(mock.calls)

    assert calls == 1
    assert "token=t" not in str(caught.value)


def test_download_second_redirect(mocked: JiraConnector) -> None:
    """A second redirect after the first is not followed."""
    media = f"{MOCK_BASE}/file/5f6e/binary?token=t"
    with responses.RequestsMock() as mock:
        mock.get(CONTENT_URL, status=303, headers={"Location": media})
        mock.get(media, status=302, headers={"Location": f"{MOCK_BASE}/elsewhere"})

        with pytest.raises(RetryableError, match="HTTP 302 instead of the file's bytes"):
            mocked.download_attachment("10000", AttachmentMeta(**_meta("10300", 3)))
        calls = len(mock.calls)

    assert calls == 2


def test_download_size_mismatch(mocked: JiraConnector) -> None:
    """Bytes of another length than the listed size raise PermanentError."""
    with responses.RequestsMock() as mock:
        mock.get(CONTENT_URL, body=b"ab")

        with pytest.raises(PermanentError, match="2 bytes for a file it lists with 3"):
            mocked.download_attachment("10000", AttachmentMeta(**_meta("10300", 3)))


def test_one_log_line_per_call(connector: JiraConnector) -> None:
    """Each attachment call logs one api_call line with a path template, not the ids."""
    issue_id = _issue(connector)

    with capture_logs() as logs:
        uploaded = connector.upload_attachment(issue_id, "a.txt", b"a", "text/plain")
        connector.list_attachments(issue_id)
        connector.download_attachment(issue_id, uploaded)

    calls = [(entry["method"], entry["path"], entry["status"]) for entry in logs]
    assert calls == [
        ("POST", "/rest/api/3/issue/{issueIdOrKey}/attachments", 200),
        ("GET", "/rest/api/3/issue/{issueIdOrKey}", 200),
        ("GET", "/rest/api/3/attachment/content/{attachmentId}", 200),
    ]
    assert all(entry["connector"] == "jira-l2" for entry in logs)


def test_webhooks_of_an_attachment(
    connector: JiraConnector,
    emulator: JiraEmulator,
    sink: WebhookSink,
    jira_agent: JiraAgent,
    clock: FakeClock,
) -> None:
    """attachment_created is ignored; the issue update it comes with becomes an event."""
    issue_id = _issue(connector)
    clock.advance(5)
    assert emulator.drain_webhooks(5)
    sink.deliveries.clear()
    jira_agent.attach(issue_id, "vpn-log.txt", b"log", "text/plain")
    assert emulator.drain_webhooks(5)

    parsed = []
    for delivery in sink.deliveries:
        connector.verify_webhook(delivery.headers, delivery.body)
        parsed.append(connector.parse_webhook(delivery.headers, delivery.body))

    events = [json.loads(delivery.body)["webhookEvent"] for delivery in sink.deliveries]
    assert events == ["attachment_created", "jira:issue_updated"]
    assert parsed[0] == []
    assert len(parsed[1]) == 1
    assert parsed[1][0].ticket_id == issue_id
    assert parsed[1][0].kind == "updated"
    assert parsed[1][0].version == "2024-05-01T07:15:47.117Z"


def _meta(attachment_id: str, size: int) -> dict[str, Any]:
    return {"source_id": attachment_id, "filename": "a.txt", "size": size}
