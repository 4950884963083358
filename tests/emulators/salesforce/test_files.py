from __future__ import annotations

import base64
import gc
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.emulators.salesforce.support import DATA, AckSink, Api, FakeClock
from tierbridge.emulators.salesforce import SalesforceEmulator, canonical_id

#: The request limit of this module's emulator, low enough to reach with a small file.
MAX_REQUEST_BYTES = 64 * 1024
ALL_BYTES = bytes(range(256))
LINK_QUERY = (
    "SELECT ContentDocumentId, ContentDocument.Title, ContentDocument.LatestPublishedVersionId, "
    "ContentDocument.ContentSize, ContentDocument.FileExtension, ContentDocument.CreatedDate, "
    "ContentDocument.LatestPublishedVersion.PathOnClient "
    "FROM ContentDocumentLink WHERE LinkedEntityId = '{case_id}'"
)
NOT_FOUND = [
    {"message": "The requested resource does not exist", "errorCode": "NOT_FOUND", "fields": []}
]


@pytest.fixture(scope="module")
def server(sf_tls_dir: Path, module_sink: AckSink) -> Iterator[SalesforceEmulator]:
    """This module's emulator rejects request bodies over MAX_REQUEST_BYTES."""
    with SalesforceEmulator(
        tls_dir=sf_tls_dir,
        webhook_url=module_sink.url,
        min_batch_size=1,
        outbound_retry_cap_seconds=0.05,
        max_request_bytes=MAX_REQUEST_BYTES,
    ) as running:
        yield running
        gc.collect()


def upload(
    api: Api,
    case_id: str | None,
    name: str = "Prüfbericht \u2013 東京.pdf",
    content: bytes = ALL_BYTES,
    **extra: Any,
) -> requests.Response:
    body: dict[str, Any] = {
        "Title": name.rpartition(".")[0],
        "PathOnClient": name,
        "VersionData": base64.b64encode(content).decode("ascii"),
        **extra,
    }
    if case_id is not None:
        body["FirstPublishLocationId"] = case_id
    return api.post(f"{DATA}/sobjects/ContentVersion", json=body)


def uploaded(api: Api, case_id: str | None, **kwargs: Any) -> str:
    response = upload(api, case_id, **kwargs)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def links(api: Api, case_id: str, **kwargs: Any) -> requests.Response:
    return api.query(LINK_QUERY.format(case_id=case_id), **kwargs)


def test_upload_created_shape(api: Api) -> None:
    """POST ContentVersion returns 201 with the new 068 id, success and no errors."""
    case_id = api.create_case()

    response = upload(api, case_id)

    body = response.json()
    assert response.status_code == 201
    assert body["success"] is True
    assert body["errors"] == []
    assert body["id"].startswith("068")
    assert canonical_id(body["id"]) == body["id"]


def test_version_read_back(api: Api) -> None:
    """A read of the new version reports its size, name, type, checksum and document."""
    case_id = api.create_case()
    version_id = uploaded(api, case_id)
    path = f"{DATA}/sobjects/ContentVersion/{version_id}"

    row = api.get(path).json()

    assert row["attributes"] == {"type": "ContentVersion", "url": path}
    assert row["ContentSize"] == 256
    assert row["PathOnClient"] == "Prüfbericht \u2013 東京.pdf"
    assert row["Title"] == "Prüfbericht \u2013 東京"
    assert row["FileExtension"] == "pdf"
    assert row["FileType"] == "PDF"
    assert row["Checksum"] == hashlib.md5(ALL_BYTES, usedforsecurity=False).hexdigest()
    assert row["ContentDocumentId"].startswith("069")
    assert row["FirstPublishLocationId"] == case_id
    assert row["IsLatest"] is True
    assert row["VersionData"] == f"{path}/VersionData"


def test_title_from_path(api: Api) -> None:
    """Without a Title, the version is titled with the file name minus its extension."""
    case_id = api.create_case()
    body = {
        "PathOnClient": "logs/server.log",
        "VersionData": base64.b64encode(b"x").decode("ascii"),
        "FirstPublishLocationId": case_id,
    }
    created = api.post(f"{DATA}/sobjects/ContentVersion", json=body).json()

    row = api.get(f"{DATA}/sobjects/ContentVersion/{created['id']}").json()

    assert row["Title"] == "server"
    assert row["FileType"] == "UNKNOWN"


def test_version_data_in_query(api: Api) -> None:
    """SOQL renders VersionData as the path that serves the bytes."""
    version_id = uploaded(api, api.create_case())

    soql = f"SELECT Id, VersionData FROM ContentVersion WHERE Id = '{version_id}'"  # noqa: S608 - an emulator id
    response = api.query(soql)

    [row] = response.json()["records"]
    assert row["VersionData"] == f"{DATA}/sobjects/ContentVersion/{version_id}/VersionData"


def test_version_data_bytes(api: Api) -> None:
    """GET .../VersionData returns the raw bytes as uploaded, with the limit header."""
    version_id = uploaded(api, api.create_case())

    response = api.get(f"{DATA}/sobjects/ContentVersion/{version_id}/VersionData")

    assert response.status_code == 200
    assert response.content == ALL_BYTES
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.headers["Sforce-Limit-Info"].startswith("api-usage=")


def test_version_data_not_found(api: Api) -> None:
    """An unknown version, or a field that is not a blob, gets the NOT_FOUND array."""
    case_id = api.create_case()

    missing = api.get(f"{DATA}/sobjects/ContentVersion/068Hs00000ZZZZZIAV/VersionData")
    not_blob = api.get(f"{DATA}/sobjects/Case/{case_id}/Subject")

    assert missing.status_code == 404
    assert missing.json() == NOT_FOUND
    assert not_blob.status_code == 404
    assert not_blob.json() == NOT_FOUND


def test_file_routes_need_session(api: Api, emulator: SalesforceEmulator) -> None:
    """Creating and downloading files without a valid token is 401 INVALID_SESSION_ID."""
    version_id = uploaded(api, api.create_case())
    anonymous = Api(emulator.base_url, emulator.ca_cert, None)

    created = upload(anonymous, None)
    read = anonymous.get(f"{DATA}/sobjects/ContentVersion/{version_id}/VersionData")
    anonymous.close()

    for response in (created, read):
        assert response.status_code == 401
        assert response.json()[0]["errorCode"] == "INVALID_SESSION_ID"


def test_file_routes_throttled(api: Api, emulator: SalesforceEmulator) -> None:
    """An exhausted allocation rejects uploads and downloads with REQUEST_LIMIT_EXCEEDED."""
    version_id = uploaded(api, api.create_case())
    emulator.inject_limit_exceeded(2)

    created = upload(api, None)
    read = api.get(f"{DATA}/sobjects/ContentVersion/{version_id}/VersionData")

    for response in (created, read):
        assert response.status_code == 403
        assert response.json()[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"


def test_upload_missing_fields(api: Api) -> None:
    """A version without PathOnClient and VersionData is REQUIRED_FIELD_MISSING."""
    response = api.post(f"{DATA}/sobjects/ContentVersion", json={"Title": "empty"})

    [error] = response.json()
    assert response.status_code == 400
    assert error["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert error["fields"] == ["PathOnClient", "VersionData"]


def test_upload_bad_base64(api: Api) -> None:
    """VersionData that is not base64 text is a JSON_PARSER_ERROR."""
    body = {"PathOnClient": "a.txt", "VersionData": "not base64!"}

    response = api.post(f"{DATA}/sobjects/ContentVersion", json=body)

    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == "JSON_PARSER_ERROR"


def test_upload_too_large(api: Api, emulator: SalesforceEmulator) -> None:
    """A body over the request limit gets the org's JSON_PARSER_ERROR and stores nothing."""
    case_id = api.create_case()

    response = upload(api, case_id, content=bytes(MAX_REQUEST_BYTES))

    assert response.status_code == 400
    assert response.json() == [
        {
            "message": (
                "Maximum size of request reached. Maximum size of request is "
                f"{MAX_REQUEST_BYTES} bytes."
            ),
            "errorCode": "JSON_PARSER_ERROR",
            "fields": [],
        }
    ]
    assert emulator.state.rows("ContentVersion") == []


def test_upload_unknown_case(api: Api) -> None:
    """A FirstPublishLocationId that names no record is FIELD_INTEGRITY_EXCEPTION."""
    response = upload(api, "500Hs00000ZZZZZIAV")

    [error] = response.json()
    assert response.status_code == 400
    assert error["errorCode"] == "FIELD_INTEGRITY_EXCEPTION"
    assert error["fields"] == ["FirstPublishLocationId"]


def test_file_objects_not_writable(api: Api) -> None:
    """ContentDocument cannot be created and ContentVersion cannot be updated or deleted."""
    version_id = uploaded(api, api.create_case())
    path = f"{DATA}/sobjects/ContentVersion/{version_id}"

    document = api.post(f"{DATA}/sobjects/ContentDocument", json={"Title": "x"})
    patched = api.patch(path, json={"Title": "renamed"})
    deleted = api.delete(path)

    for response in (document, patched, deleted):
        assert response.status_code == 400
        assert response.json()[0]["errorCode"] == "INVALID_TYPE_FOR_OPERATION"


def test_links_query_shape(api: Api, emulator: SalesforceEmulator) -> None:
    """A ContentDocumentLink row nests its document and the latest version's PathOnClient."""
    case_id = api.create_case()
    version_id = uploaded(api, case_id)

    [row] = links(api, case_id).json()["records"]

    document = row["ContentDocument"]
    assert row["attributes"]["type"] == "ContentDocumentLink"
    assert row["attributes"]["url"].startswith(f"{DATA}/sobjects/ContentDocumentLink/06A")
    assert row["ContentDocumentId"] == document["attributes"]["url"].rsplit("/", 1)[1]
    assert document["attributes"]["type"] == "ContentDocument"
    assert document["Title"] == "Prüfbericht \u2013 東京"
    assert document["LatestPublishedVersionId"] == version_id
    assert document["ContentSize"] == 256
    assert document["FileExtension"] == "pdf"
    assert document["CreatedDate"] == "2024-05-01T07:15:42.000+0000"
    assert document["LatestPublishedVersion"]["PathOnClient"] == "Prüfbericht \u2013 東京.pdf"
    assert document["LatestPublishedVersion"]["attributes"]["type"] == "ContentVersion"


def test_links_query_pages(api: Api) -> None:
    """Links page with batchSize like any query, and every file is read once."""
    case_id = api.create_case()
    ids = [uploaded(api, case_id, name=f"file-{index}.txt") for index in range(3)]
    options = {"Sforce-Query-Options": "batchSize=1"}

    page = links(api, case_id, headers=options).json()
    rows = list(page["records"])
    while not page["done"]:
        page = api.get(page["nextRecordsUrl"], headers=options).json()
        rows.extend(page["records"])

    assert page["totalSize"] == 3
    assert sorted(row["ContentDocument"]["LatestPublishedVersionId"] for row in rows) == ids


def test_links_query_empty(api: Api) -> None:
    """A Case without files has no links."""
    case_id = api.create_case()

    body = links(api, case_id).json()

    assert body == {"totalSize": 0, "done": True, "records": []}


@pytest.mark.parametrize(
    "where",
    ["", "WHERE ShareType = 'V'", "WHERE LinkedEntityId != '{case_id}'", "WHERE Id > '{case_id}'"],
)
def test_links_query_needs_filter(api: Api, where: str) -> None:
    """A link query without `=` or IN on an id field gets the implementation restriction."""
    case_id = api.create_case()

    soql = f"SELECT Id FROM ContentDocumentLink {where.format(case_id=case_id)}"  # noqa: S608 - test SOQL
    response = api.query(soql)

    [error] = response.json()
    assert response.status_code == 400
    assert error["errorCode"] == "MALFORMED_QUERY"
    assert error["message"].startswith("Implementation restriction: ContentDocumentLink")


def test_links_query_by_document(api: Api) -> None:
    """Filtering on ContentDocumentId with IN lists every link of the document."""
    case_id = api.create_case()
    version_id = uploaded(api, case_id)
    version = api.get(f"{DATA}/sobjects/ContentVersion/{version_id}").json()
    document_id = version["ContentDocumentId"]
    soql = (
        "SELECT LinkedEntityId, ShareType FROM ContentDocumentLink "  # noqa: S608 - an emulator id
        f"WHERE ContentDocumentId IN ('{document_id}') AND ShareType != null"
    )

    rows = api.query(soql).json()["records"]

    shares = {row["LinkedEntityId"][:3]: row["ShareType"] for row in rows}
    assert shares == {"500": "V", "005": "I"}


def test_case_file_subquery(api: Api, clock: FakeClock) -> None:
    """A ContentDocumentLinks subquery on Case returns the newest link, or null."""
    with_files = api.create_case()
    without = api.create_case()
    uploaded(api, with_files)
    clock.advance(30)
    uploaded(api, with_files)
    soql = (
        "SELECT Id, (SELECT SystemModstamp FROM ContentDocumentLinks "
        "ORDER BY SystemModstamp DESC LIMIT 1) FROM Case ORDER BY Id"
    )

    rows = api.query(soql).json()["records"]

    assert [row["Id"] for row in rows] == [with_files, without]
    related = rows[0]["ContentDocumentLinks"]
    assert related["totalSize"] == 1
    assert related["records"][0]["SystemModstamp"] == "2024-05-01T07:16:12.000+0000"
    assert rows[1]["ContentDocumentLinks"] is None


def test_file_leaves_case_unchanged(
    api: Api, emulator: SalesforceEmulator, sink: AckSink, clock: FakeClock
) -> None:
    """A file moves neither the Case's SystemModstamp nor sends an outbound message."""
    case_id = api.create_case()
    assert emulator.drain_webhooks(5)
    before = api.get(f"{DATA}/sobjects/Case/{case_id}").json()
    sent = len(sink.deliveries)
    clock.advance(120)

    uploaded(api, case_id)
    assert emulator.drain_webhooks(5)
    after = api.get(f"{DATA}/sobjects/Case/{case_id}").json()

    assert after["SystemModstamp"] == before["SystemModstamp"]
    assert after["LastModifiedDate"] == before["LastModifiedDate"]
    assert len(sink.deliveries) == sent


def test_file_without_location(api: Api, emulator: SalesforceEmulator) -> None:
    """A version without FirstPublishLocationId is linked to its uploader only."""
    found = emulator.state.user_by_username("svc.tierbridge@example.com")
    assert found is not None

    version_id = uploaded(api, None, name="notes.txt", content=b"private")

    [stored] = emulator.state.files(found["Id"])
    assert stored.version_id == version_id
    assert stored.content == b"private"


def test_state_lists_files(api: Api, emulator: SalesforceEmulator, clock: FakeClock) -> None:
    """state.files lists a record's files oldest first, with their bytes."""
    case_id = api.create_case()
    first = uploaded(api, case_id, name="a.txt", content=b"first")
    clock.advance(5)
    second = uploaded(api, case_id, name="b.bin", content=ALL_BYTES)

    stored = emulator.state.files(case_id)

    assert [item.version_id for item in stored] == [first, second]
    assert [item.filename for item in stored] == ["a.txt", "b.bin"]
    assert stored[1].content == ALL_BYTES
    assert emulator.state.files(case_id[:15]) == stored
