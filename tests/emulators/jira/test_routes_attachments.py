from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.emulators.jira.support import Api, FakeClock
from tierbridge.emulators.jira import JiraEmulator
from tierbridge.emulators.jira.site import DEFAULT_ATTACHMENT_MAX_BYTES

NO_CHECK = {"X-Atlassian-Token": "no-check"}
ALL_BYTES = bytes(range(256))
FILENAME = "Prüfbericht – 東京.pdf"  # noqa: RUF001 - a non-ASCII dash on purpose


def _upload(
    api: Api,
    key: str,
    *files: tuple[str, bytes, str],
    headers: dict[str, str] | None = None,
) -> requests.Response:
    parts = [("file", item) for item in files]
    return api.post(
        f"/rest/api/3/issue/{key}/attachments",
        files=parts,
        headers=NO_CHECK if headers is None else headers,
    )


def _attach(
    api: Api,
    key: str,
    name: str = "log.txt",
    content: bytes = b"abc",
    content_type: str = "text/plain",
) -> dict[str, Any]:
    response = _upload(api, key, (name, content, content_type))
    assert response.status_code == 200, response.text
    created: dict[str, Any] = response.json()[0]
    return created


def _anonymous(emulator: JiraEmulator, method: str, url: str) -> requests.Response:
    """Send a request without credentials, trusting only the emulator's CA."""
    with requests.Session() as session:
        session.trust_env = False
        return session.request(method, url, verify=str(emulator.ca_cert), timeout=10)


def test_upload_shape(emulator: JiraEmulator, svc: Api) -> None:
    """An upload returns 200 with one Attachment object per file, in the caller's zone."""
    key = svc.create_request()["issueKey"]

    response = _upload(svc, key, (FILENAME, ALL_BYTES, "application/pdf"))
    body = response.json()

    assert response.status_code == 200
    assert isinstance(body, list)
    assert len(body) == 1
    created = body[0]
    assert created["id"] == "10300"
    assert created["filename"] == FILENAME
    assert created["size"] == 256
    assert created["mimeType"] == "application/pdf"
    assert created["created"] == "2024-05-01T09:15:42.117+0200"
    assert created["author"]["emailAddress"] == "svc.tierbridge@example.com"
    assert created["self"] == f"{emulator.base_url}/rest/api/3/attachment/10300"
    assert created["content"] == f"{emulator.base_url}/rest/api/3/attachment/content/10300"
    assert "thumbnail" not in created


def test_upload_several_files(emulator: JiraEmulator, svc: Api) -> None:
    """Every `file` part becomes an attachment, in body order, with increasing ids."""
    key = svc.create_request()["issueKey"]

    response = _upload(svc, key, ("a.txt", b"a", "text/plain"), ("b.bin", b"bb", ""))
    body = response.json()

    assert [item["filename"] for item in body] == ["a.txt", "b.bin"]
    assert [item["id"] for item in body] == ["10300", "10301"]
    assert body[1]["mimeType"] == "application/octet-stream"
    stored = emulator.attachments(key)
    assert [item.content for item in stored] == [b"a", b"bb"]


def test_upload_accepts_nocheck(svc: Api) -> None:
    """The older token value `nocheck` passes the XSRF check as well."""
    key = svc.create_request()["issueKey"]

    response = _upload(
        svc, key, ("a.txt", b"a", "text/plain"), headers={"X-Atlassian-Token": "nocheck"}
    )

    assert response.status_code == 200


def test_upload_without_token_is_xsrf(emulator: JiraEmulator, svc: Api) -> None:
    """Without X-Atlassian-Token Jira responds 403 `XSRF check failed` in plain text."""
    key = svc.create_request()["issueKey"]

    response = _upload(svc, key, ("a.txt", b"a", "text/plain"), headers={})

    assert response.status_code == 403
    assert response.text == "XSRF check failed"
    assert response.headers["Content-Type"].startswith("text/plain")
    assert emulator.attachments(key) == []


def test_upload_unknown_issue(svc: Api) -> None:
    """An upload to an unknown issue gets the platform API's 404 body."""
    response = _upload(svc, "L2-404", ("a.txt", b"a", "text/plain"))

    assert response.status_code == 404
    assert response.json() == {
        "errorMessages": ["Issue L2-404 does not exist or you do not have permission to see it."],
        "errors": {},
    }


def test_upload_over_limit(emulator: JiraEmulator, svc: Api) -> None:
    """A file over the configured maximum gets 413, and none of the request's files is kept."""
    key = svc.create_request()["issueKey"]
    emulator.attachment_max_bytes = 10

    response = _upload(svc, key, ("ok.txt", b"x" * 10, "text/plain"), ("big.bin", b"x" * 11, ""))

    assert response.status_code == 413
    assert response.json() == {
        "errorMessages": ["The field file exceeds its maximum permitted size of 10 bytes."],
        "errors": {},
    }
    assert emulator.attachments(key) == []


def test_limit_restored_by_reset(emulator: JiraEmulator) -> None:
    """reset() returns the attachment limit to its construction value."""
    emulator.attachment_max_bytes = 1

    emulator.reset()

    assert emulator.attachment_max_bytes == DEFAULT_ATTACHMENT_MAX_BYTES


def test_upload_too_many_files(svc: Api) -> None:
    """More than 60 files in one request get 413."""
    key = svc.create_request()["issueKey"]
    files = [(f"{number}.txt", b"x", "text/plain") for number in range(61)]

    response = _upload(svc, key, *files)

    assert response.status_code == 413
    assert "At most 60 files" in response.json()["errorMessages"][0]


def test_upload_not_multipart(svc: Api) -> None:
    """A JSON body gets 415."""
    key = svc.create_request()["issueKey"]

    response = svc.post(f"/rest/api/3/issue/{key}/attachments", json={}, headers=NO_CHECK)

    assert response.status_code == 415
    assert "multipart/form-data" in response.json()["errorMessages"][0]


def test_upload_without_file_part(svc: Api) -> None:
    """A form without a `file` part gets 400."""
    key = svc.create_request()["issueKey"]

    response = svc.post(
        f"/rest/api/3/issue/{key}/attachments",
        files=[("document", ("a.txt", b"a", "text/plain"))],
        headers=NO_CHECK,
    )

    assert response.status_code == 400
    assert "no part named 'file'" in response.json()["errorMessages"][0]


def test_attachment_field_lists_files(svc: Api, agent: Api, clock: FakeClock) -> None:
    """The issue's `attachment` field lists every file oldest first, in the reader's zone."""
    key = svc.create_request()["issueKey"]
    _attach(svc, key, "first.txt")
    clock.advance(60)
    _attach(agent, key, "second.txt")

    fields = svc.get(f"/rest/api/3/issue/{key}", params={"fields": "attachment"}).json()["fields"]

    assert list(fields) == ["attachment"]
    assert [item["filename"] for item in fields["attachment"]] == ["first.txt", "second.txt"]
    assert fields["attachment"][1]["created"] == "2024-05-01T09:16:42.117+0200"
    assert fields["attachment"][1]["author"]["emailAddress"] == "agent.l2@example.com"


def test_attachment_field_empty(svc: Api) -> None:
    """An issue without files has an empty `attachment` list; `*navigable` leaves it out."""
    key = svc.create_request()["issueKey"]

    every = svc.get(f"/rest/api/3/issue/{key}").json()["fields"]
    navigable = svc.post(
        "/rest/api/3/search/jql", json={"jql": "project = L2", "fields": ["*navigable"]}
    ).json()["issues"][0]["fields"]

    assert every["attachment"] == []
    assert "attachment" not in navigable


def test_upload_moves_updated(svc: Api, clock: FakeClock) -> None:
    """Attaching a file moves the issue's `updated` time."""
    key = svc.create_request()["issueKey"]
    clock.advance(30)

    _attach(svc, key)
    fields = svc.get(f"/rest/api/3/issue/{key}", params={"fields": "created,updated"}).json()

    assert fields["fields"]["created"] == "2024-05-01T09:15:42.117+0200"
    assert fields["fields"]["updated"] == "2024-05-01T09:16:12.117+0200"


def test_metadata_shape(emulator: JiraEmulator, svc: Api) -> None:
    """GET /attachment/{id} sends a numeric id, the content URL and `properties`."""
    key = svc.create_request()["issueKey"]
    created = _attach(svc, key, FILENAME, ALL_BYTES)

    body = svc.get(f"/rest/api/3/attachment/{created['id']}").json()

    assert body["id"] == 10300
    assert body["filename"] == FILENAME
    assert body["size"] == 256
    assert body["mimeType"] == "text/plain"
    assert body["content"] == created["content"]
    assert body["properties"] == {}
    assert body["created"] == created["created"]


@pytest.mark.parametrize("attachment_id", ["99999", "abc"])
def test_metadata_not_found(svc: Api, attachment_id: str) -> None:
    """An unknown or non-numeric attachment id gets Jira's 404 body."""
    response = svc.get(f"/rest/api/3/attachment/{attachment_id}")

    assert response.status_code == 404
    assert response.json() == {
        "errorMessages": [f"The attachment with id '{attachment_id}' does not exist"],
        "errors": {},
    }


def test_settings_report_limit(emulator: JiraEmulator, svc: Api) -> None:
    """GET /attachment/meta reports attachments on and the configured upload limit."""
    emulator.attachment_max_bytes = 2048

    body = svc.get("/rest/api/3/attachment/meta").json()

    assert body == {"enabled": True, "uploadLimit": 2048}


def test_content_redirects(emulator: JiraEmulator, svc: Api) -> None:
    """The content URL responds 303 to a media URL that sends the bytes for its token alone."""
    key = svc.create_request()["issueKey"]
    created = _attach(svc, key, FILENAME, ALL_BYTES)

    response = svc.get(f"/rest/api/3/attachment/content/{created['id']}", allow_redirects=False)
    location = urlsplit(response.headers["Location"])
    query = parse_qs(location.query)
    media = _anonymous(emulator, "GET", response.headers["Location"])

    assert response.status_code == 303
    assert f"{location.scheme}://{location.netloc}" == emulator.base_url
    assert location.path == f"/file/{emulator.attachments(key)[0].media_id}/binary"
    assert query["name"] == [FILENAME]
    assert query["token"][0]
    assert media.status_code == 200
    assert media.content == ALL_BYTES


def test_content_without_redirect(svc: Api) -> None:
    """`redirect=false` sends the bytes themselves with the file's type."""
    key = svc.create_request()["issueKey"]
    created = _attach(svc, key, "data.bin", ALL_BYTES, "application/octet-stream")

    response = svc.get(
        f"/rest/api/3/attachment/content/{created['id']}", params={"redirect": "false"}
    )

    assert response.status_code == 200
    assert response.content == ALL_BYTES
    assert response.headers["Content-Type"] == "application/octet-stream"


def test_content_not_found(svc: Api) -> None:
    """An unknown attachment's content gets the same 404 body as its metadata."""
    response = svc.get("/rest/api/3/attachment/content/99999", params={"redirect": "false"})

    assert response.status_code == 404
    assert response.json()["errorMessages"] == ["The attachment with id '99999' does not exist"]


def test_media_needs_token(emulator: JiraEmulator, svc: Api) -> None:
    """The media URL rejects a wrong token and an unknown file id."""
    key = svc.create_request()["issueKey"]
    _attach(svc, key)
    media_id = emulator.attachments(key)[0].media_id

    wrong = svc.get(f"/file/{media_id}/binary", params={"token": "0" * 64})
    unknown = svc.get("/file/00000000-0000-0000-0000-000000000000/binary", params={"token": "x"})

    assert wrong.status_code == 401
    assert unknown.status_code == 404


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/rest/api/3/issue/L2-1/attachments"),
        ("GET", "/rest/api/3/attachment/meta"),
        ("GET", "/rest/api/3/attachment/10300"),
        ("GET", "/rest/api/3/attachment/content/10300"),
    ],
)
def test_attachment_routes_need_auth(emulator: JiraEmulator, method: str, path: str) -> None:
    """Every Jira attachment route returns 401 without credentials."""
    response = _anonymous(emulator, method, emulator.base_url + path)

    assert response.status_code == 401
    assert response.json()["errorMessages"] == [
        "Client must be authenticated to access this resource."
    ]


def test_attachment_routes_throttled(emulator: JiraEmulator, svc: Api) -> None:
    """Injected 429s apply to the attachment routes, with Jira's rate-limit headers."""
    key = svc.create_request()["issueKey"]
    emulator.inject_429(2, retry_after=3)

    upload = _upload(svc, key, ("a.txt", b"a", "text/plain"))
    listing = svc.get(f"/rest/api/3/issue/{key}", params={"fields": "attachment"})

    assert upload.status_code == 429
    assert upload.headers["Retry-After"] == "3"
    assert listing.status_code == 429
    assert emulator.attachments(key) == []


def test_attachment_routes_fault_storm(emulator: JiraEmulator, svc: Api) -> None:
    """A seeded 429 storm of the fault injector reaches the download route as well."""
    key = svc.create_request()["issueKey"]
    created = _attach(svc, key)
    emulator.faults.storm(1, retry_after=4)

    throttled = svc.get(f"/rest/api/3/attachment/content/{created['id']}")
    after = svc.get(f"/rest/api/3/attachment/content/{created['id']}")

    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "4"
    assert throttled.headers["RateLimit-Reason"] == "jira-burst-based"
    assert after.status_code == 200
    assert after.content == b"abc"


def test_attachments_helper_unknown_issue(emulator: JiraEmulator) -> None:
    """JiraEmulator.attachments raises KeyError for an issue that does not exist."""
    with pytest.raises(KeyError):
        emulator.attachments("L2-404")
