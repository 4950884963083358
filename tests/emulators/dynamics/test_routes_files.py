"""File notes in the emulator: upload, the upload limit, listing, `documentbody` reads."""

from __future__ import annotations

import base64
from typing import Any

import requests

from tests.emulators.dynamics.support import Api, FakeClock, new_case
from tierbridge.emulators.dynamics import DynamicsEmulator

#: A file name with an umlaut, an en dash and kanji.
NAME = "Prüfbericht \u2013 東京.pdf"

REPRESENTATION = {"Prefer": "return=representation"}
PAGE_OF_TWO = {"Prefer": "odata.maxpagesize=2"}
MISSING = "3f2a8c1e-5b7d-4e9f-a1c2-0d9e8f7a6b5c"
EVERY_BYTE = bytes(range(256))
LIST = (
    "incidents({case})/Incident_Annotation?$select=annotationid,filename,filesize"
    "&$filter=isdocument eq true&$orderby=createdon asc"
)


def _b64(content: bytes) -> str:
    return base64.b64encode(content).decode("ascii")


def _file_body(case_id: str, content: bytes, name: str = "log.txt") -> dict[str, Any]:
    return {
        "subject": name,
        "isdocument": True,
        "filename": name,
        "mimetype": "text/plain",
        "documentbody": _b64(content),
        "objectid_incident@odata.bind": f"/incidents({case_id})",
    }


def _post_file(api: Api, case_id: str, content: bytes, name: str = "log.txt") -> requests.Response:
    return api.post(
        "annotations?$select=annotationid,filename,mimetype,filesize,isdocument",
        json=_file_body(case_id, content, name),
        headers=REPRESENTATION,
    )


def test_upload_representation(api: Api, emulator: DynamicsEmulator) -> None:
    """POST with a file returns 201 with the computed filesize and stores the bytes."""
    case = new_case(emulator)["incidentid"]

    response = _post_file(api, case, EVERY_BYTE, NAME)

    assert response.status_code == 201
    note = response.json()
    assert note["filesize"] == 256
    assert note["isdocument"] is True
    assert note["filename"] == NAME
    [stored] = emulator.state.attachments(case)
    assert stored.annotation_id == note["annotationid"]
    assert stored.content == EVERY_BYTE


def test_upload_sets_isdocument(api: Api, emulator: DynamicsEmulator) -> None:
    """A note posted with a file but without isdocument is stored as a document."""
    case = new_case(emulator)["incidentid"]
    body = _file_body(case, b"abc")
    del body["isdocument"]

    response = api.post("annotations", json=body)

    assert response.status_code == 204
    [stored] = emulator.state.attachments(case)
    assert stored.content == b"abc"


def test_upload_limit_is_base64_length(api: Api, emulator: DynamicsEmulator) -> None:
    """maxuploadfilesize caps the Base64 text: 75 bytes (100 characters) fit a 100 limit, 76 do not."""
    case = new_case(emulator)["incidentid"]
    emulator.state.max_upload_file_size = 100

    fits = _post_file(api, case, bytes(75))
    too_big = _post_file(api, case, bytes(76))

    assert fits.status_code == 201
    assert too_big.status_code == 400
    assert too_big.json() == {
        "error": {"code": "0x80044a02", "message": "Attachment file size is too big."}
    }
    assert [len(f.content) for f in emulator.state.attachments(case)] == [75]


def test_default_limit(api: Api, emulator: DynamicsEmulator) -> None:
    """The default limit of 5,242,880 Base64 characters takes 3,932,160 bytes, not 4 MB."""
    case = new_case(emulator)["incidentid"]

    largest = _post_file(api, case, bytes(3 * 1024 * 1024 * 5 // 4))
    four_mb = _post_file(api, case, bytes(4 * 1024 * 1024))

    assert largest.status_code == 201
    assert four_mb.status_code == 400


def test_upload_not_base64(api: Api, emulator: DynamicsEmulator) -> None:
    """A documentbody that is not Base64 is a 400 and nothing is stored."""
    case = new_case(emulator)["incidentid"]
    body = {**_file_body(case, b""), "documentbody": "not base64!"}

    response = api.post("annotations", json=body)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "0x80040203"
    assert emulator.state.rows("annotation") == []


def test_upload_missing_case(api: Api, emulator: DynamicsEmulator) -> None:
    """A file bound to a case that does not exist is the 404 Does Not Exist error."""
    response = _post_file(api, MISSING, b"abc")

    assert response.status_code == 404
    assert response.json() == {
        "error": {"code": "0x80040217", "message": f"incident With Id = {MISSING} Does Not Exist"}
    }


def test_filesize_read_only(api: Api, emulator: DynamicsEmulator) -> None:
    """filesize is computed by the platform, so a request that sets it is a 400."""
    case = new_case(emulator)["incidentid"]
    body = {**_file_body(case, b"abc"), "filesize": 3}

    response = api.post("annotations", json=body)

    assert response.status_code == 400
    assert "filesize" in response.json()["error"]["message"]


def test_patch_replaces_file(api: Api, emulator: DynamicsEmulator) -> None:
    """A PATCH with a new documentbody recomputes filesize and checks the limit again."""
    case = new_case(emulator)["incidentid"]
    note = _post_file(api, case, b"abc").json()["annotationid"]
    emulator.state.max_upload_file_size = 8

    replaced = api.patch(
        f"annotations({note})", json={"documentbody": _b64(b"abcdef")}, headers={"If-Match": "*"}
    )
    too_big = api.patch(
        f"annotations({note})", json={"documentbody": _b64(b"abcdefg")}, headers={"If-Match": "*"}
    )

    assert replaced.status_code == 204
    assert too_big.status_code == 400
    assert emulator.state.require("annotation", note)["filesize"] == 6


def test_list_files_paged(api: Api, emulator: DynamicsEmulator, clock: FakeClock) -> None:
    """Incident_Annotation filtered on isdocument pages the case's files oldest first."""
    case = new_case(emulator)["incidentid"]
    for index in range(3):
        _post_file(api, case, b"x" * index, f"file-{index}.txt")
        clock.advance(1)
    api.post(
        "annotations",
        json={"notetext": "text", "objectid_incident@odata.bind": f"/incidents({case})"},
    )

    first = api.get(LIST.format(case=case), headers=PAGE_OF_TWO).json()
    second = api.get(first["@odata.nextLink"], headers=PAGE_OF_TWO).json()

    rows = first["value"] + second["value"]
    assert [row["filename"] for row in rows] == ["file-0.txt", "file-1.txt", "file-2.txt"]
    assert [row["filesize"] for row in rows] == [0, 1, 2]
    assert set(rows[0]) == {"@odata.etag", "annotationid", "filename", "filesize"}
    assert "@odata.nextLink" not in second


def test_list_missing_case(api: Api) -> None:
    """The files of a case that does not exist are the 404 Does Not Exist error."""
    response = api.get(LIST.format(case=MISSING))

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "0x80040217"


def test_documentbody_value(api: Api, emulator: DynamicsEmulator) -> None:
    """documentbody/$value returns the Base64 text as text/plain."""
    case = new_case(emulator)["incidentid"]
    note = _post_file(api, case, EVERY_BYTE).json()["annotationid"]

    response = api.get(f"annotations({note})/documentbody/$value")

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    assert base64.b64decode(response.text) == EVERY_BYTE


def test_documentbody_property(api: Api, emulator: DynamicsEmulator) -> None:
    """documentbody without $value returns an OData value object, and $select the row."""
    case = new_case(emulator)["incidentid"]
    note = _post_file(api, case, b"abc").json()["annotationid"]

    single = api.get(f"annotations({note})/documentbody").json()
    row = api.get(f"annotations({note})?$select=documentbody,filesize").json()

    assert single["value"] == "YWJj"
    assert single["@odata.context"].endswith(f"$metadata#annotations({note})/documentbody")
    assert (row["documentbody"], row["filesize"]) == ("YWJj", 3)


def test_documentbody_missing_note(api: Api) -> None:
    """The file of a note that does not exist is the 404 Does Not Exist error."""
    response = api.get(f"annotations({MISSING})/documentbody/$value")

    assert response.status_code == 404
    assert response.json() == {
        "error": {"code": "0x80040217", "message": f"annotation With Id = {MISSING} Does Not Exist"}
    }


def test_documentbody_of_text_note(api: Api, emulator: DynamicsEmulator) -> None:
    """A note without a file has no documentbody: 204 No Content."""
    case = new_case(emulator)["incidentid"]
    body = {"notetext": "text", "objectid_incident@odata.bind": f"/incidents({case})"}
    note = api.post("annotations", json=body, headers=REPRESENTATION).json()["annotationid"]

    response = api.get(f"annotations({note})/documentbody/$value")

    assert response.status_code == 204
    assert response.content == b""


def test_property_errors(api: Api, emulator: DynamicsEmulator) -> None:
    """Unknown columns and lookups are 404s, writes to a property 405, a bad id 400."""
    case = new_case(emulator)["incidentid"]
    note = _post_file(api, case, b"abc").json()["annotationid"]

    unknown = api.get(f"annotations({note})/nosuchcolumn")
    lookup = api.get(f"annotations({note})/objectid")
    write = api.call("PUT", f"annotations({note})/documentbody", json={"value": "YQ=="})
    bad_id = api.get("annotations(nope)/documentbody/$value")

    assert unknown.status_code == 404
    assert (
        unknown.json()["error"]["message"] == "Resource not found for the segment 'nosuchcolumn'."
    )
    assert lookup.status_code == 404
    assert write.status_code == 405
    assert bad_id.status_code == 400


def test_file_routes_need_a_token(emulator: DynamicsEmulator, api: Api) -> None:
    """Without a bearer token the file routes return 401 and store nothing."""
    case = new_case(emulator)["incidentid"]
    anonymous = requests.Session()
    base = f"{emulator.base_url}/api/data/v9.2"

    posted = anonymous.post(
        f"{base}/annotations", json=_file_body(case, b"abc"), verify=api.verify, timeout=10
    )
    read = anonymous.get(
        f"{base}/annotations({MISSING})/documentbody/$value", verify=api.verify, timeout=10
    )
    anonymous.close()

    assert posted.status_code == 401
    assert read.status_code == 401
    assert emulator.state.rows("annotation") == []


def test_file_routes_throttled(api: Api, emulator: DynamicsEmulator) -> None:
    """Injected service-protection 429s apply to file reads and writes too."""
    case = new_case(emulator)["incidentid"]
    note = _post_file(api, case, b"abc").json()["annotationid"]
    emulator.inject_429(2, retry_after=7)

    read = api.get(f"annotations({note})/documentbody/$value")
    posted = _post_file(api, case, b"def")

    assert (read.status_code, posted.status_code) == (429, 429)
    assert read.headers["Retry-After"] == "7"
    assert read.json()["error"]["code"] == "0x80072322"
    assert len(emulator.state.attachments(case)) == 1


def test_truncated_file_fault(api: Api, emulator: DynamicsEmulator, clock: FakeClock) -> None:
    """inject_truncated_files stores the next file one byte short, and only the next."""
    case = new_case(emulator)["incidentid"]
    emulator.inject_truncated_files()

    cut = _post_file(api, case, b"abcd").json()
    clock.advance(1)
    whole = _post_file(api, case, b"abcd").json()

    assert (cut["filesize"], whole["filesize"]) == (3, 4)
    assert [f.content for f in emulator.state.attachments(case)] == [b"abc", b"abcd"]
