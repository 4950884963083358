"""DynamicsConnector attachments: file notes listed, read and written against the emulator."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import responses

from tests.connectors.dynamics.conftest import MakeSettings
from tests.emulators.dynamics.support import FakeClock, new_case
from tierbridge.connectors.dynamics.connector import DynamicsConnector
from tierbridge.core.errors import NotFoundError, PermanentError, RejectedError, ThrottledError
from tierbridge.core.model import AttachmentMeta
from tierbridge.emulators.dynamics import DynamicsEmulator
from tierbridge.emulators.dynamics.values import Ref

EVERY_BYTE = bytes(range(256)) * 3
NAME = "Prüfbericht \u2013 東京.pdf"
MISSING = "3f2a8c1e-5b7d-4e9f-a1c2-0d9e8f7a6b5c"


def _agent_file(
    emulator: DynamicsEmulator, case_id: str, name: str, content: bytes, **values: Any
) -> dict[str, Any]:
    """Attach a file straight in the emulator's state, as the seeded agent."""
    row = {
        "isdocument": True,
        "filename": name,
        "documentbody": base64.b64encode(content).decode("ascii"),
        "objectid": Ref("incident", case_id),
        **values,
    }
    return emulator.state.create("annotation", row, user_id=emulator.state.seed.agent_user)


def test_round_trip(connector: DynamicsConnector, emulator: DynamicsEmulator) -> None:
    """Every byte value and a non-ASCII name survive upload, list and download unchanged."""
    case = new_case(emulator)["incidentid"]

    uploaded = connector.upload_attachment(case, NAME, EVERY_BYTE, "application/pdf")
    [listed] = connector.list_attachments(case)
    downloaded = connector.download_attachment(case, listed)

    assert uploaded == listed
    assert listed.filename == NAME
    assert listed.size == len(EVERY_BYTE)
    assert listed.content_type == "application/pdf"
    assert listed.sha256 is None
    assert downloaded == EVERY_BYTE
    [stored] = emulator.state.attachments(case)
    assert stored.content == EVERY_BYTE
    assert stored.filename == NAME
    assert stored.notetext is None


def test_upload_note_shape(connector: DynamicsConnector, emulator: DynamicsEmulator) -> None:
    """An upload is a note bound to the case, subject set to the file name, no text."""
    case = new_case(emulator)["incidentid"]

    meta = connector.upload_attachment(case, "trace.txt", b"", None)

    note = emulator.state.require("annotation", meta.source_id)
    assert note["objectid"] == Ref("incident", case)
    assert note["subject"] == "trace.txt"
    assert note["isdocument"] is True
    assert note["mimetype"] is None
    assert note["filesize"] == 0
    assert meta.size == 0


def test_list_oldest_first_paged(
    connector: DynamicsConnector, emulator: DynamicsEmulator, clock: FakeClock
) -> None:
    """Files come oldest first over pages of two, without text notes or other cases' files."""
    case = new_case(emulator)["incidentid"]
    other = new_case(emulator)["incidentid"]
    for index in range(5):
        _agent_file(emulator, case, f"file-{index}.txt", f"content {index}".encode())
        clock.advance(1)
    _agent_file(emulator, other, "other.txt", b"other")
    connector.add_comment(case, "A text note.", public=False)

    files = connector.list_attachments(case)

    assert [f.filename for f in files] == [f"file-{index}.txt" for index in range(5)]
    assert [f.size for f in files] == [len(f"content {index}") for index in range(5)]


def test_list_empty(connector: DynamicsConnector, emulator: DynamicsEmulator) -> None:
    """A case without files lists none."""
    case = new_case(emulator)["incidentid"]

    assert connector.list_attachments(case) == []


def test_list_missing_case(connector: DynamicsConnector) -> None:
    """Listing the files of a case that does not exist raises NotFoundError, not []."""
    with pytest.raises(NotFoundError) as caught:
        connector.list_attachments(MISSING)

    assert caught.value.status == 404


def test_download_missing_note(connector: DynamicsConnector, emulator: DynamicsEmulator) -> None:
    """A deleted or unknown note raises NotFoundError with the 404."""
    case = new_case(emulator)["incidentid"]
    missing_note = AttachmentMeta(source_id=MISSING, filename="gone.txt")

    with pytest.raises(NotFoundError) as caught:
        connector.download_attachment(case, missing_note)

    assert caught.value.status == 404


def test_download_other_case(connector: DynamicsConnector, emulator: DynamicsEmulator) -> None:
    """A file of another case is not read through this case."""
    case = new_case(emulator)["incidentid"]
    other = new_case(emulator)["incidentid"]
    note = _agent_file(emulator, other, "secret.txt", b"other case")
    meta = AttachmentMeta(source_id=note["annotationid"], filename="secret.txt")

    with pytest.raises(NotFoundError, match="not a file on case"):
        connector.download_attachment(case, meta)


def test_ids_must_be_guids(connector: DynamicsConnector, emulator: DynamicsEmulator) -> None:
    """Ids that are not GUIDs never reach a URL."""
    case = new_case(emulator)["incidentid"]
    crafted = AttachmentMeta(source_id="x)/../incidents(y", filename="a")

    with pytest.raises(NotFoundError, match="not a Dataverse GUID"):
        connector.download_attachment(case, crafted)
    with pytest.raises(NotFoundError, match="not a Dataverse GUID"):
        connector.list_attachments("1 or true")


def test_upload_missing_case(connector: DynamicsConnector, emulator: DynamicsEmulator) -> None:
    """A file for a case that does not exist raises NotFoundError and stores nothing."""
    with pytest.raises(NotFoundError):
        connector.upload_attachment(MISSING, "a.txt", b"a", "text/plain")

    assert emulator.state.rows("annotation") == []


def test_upload_short_size_rejected(
    connector: DynamicsConnector, emulator: DynamicsEmulator
) -> None:
    """A stored size other than the bytes sent raises RejectedError naming the note."""
    case = new_case(emulator)["incidentid"]
    emulator.inject_truncated_files()

    with pytest.raises(RejectedError, match="stores 767 bytes of the 768 sent") as caught:
        connector.upload_attachment(case, NAME, EVERY_BYTE, "application/pdf")

    [stored] = emulator.state.attachments(case)
    assert stored.annotation_id in str(caught.value)


def test_upload_too_large(connector: DynamicsConnector, emulator: DynamicsEmulator) -> None:
    """A file over maxuploadfilesize (Base64 length) raises RejectedError with the vendor code."""
    case = new_case(emulator)["incidentid"]
    emulator.state.max_upload_file_size = 100

    with pytest.raises(RejectedError, match="0x80044a02") as caught:
        connector.upload_attachment(case, "big.bin", bytes(76), None)

    assert caught.value.status == 400
    assert emulator.state.attachments(case) == []


def test_throttled(connector: DynamicsConnector, emulator: DynamicsEmulator) -> None:
    """A 429 on list, download or upload raises ThrottledError with the wait asked for."""
    case = new_case(emulator)["incidentid"]
    meta = connector.upload_attachment(case, "a.txt", b"a", "text/plain")

    emulator.inject_429(1, retry_after=0)
    with pytest.raises(ThrottledError) as listing:
        connector.list_attachments(case)
    emulator.inject_429(1, retry_after=0)
    with pytest.raises(ThrottledError):
        connector.download_attachment(case, meta)
    emulator.inject_429(1, retry_after=0)
    with pytest.raises(ThrottledError):
        connector.upload_attachment(case, "b.txt", b"b", "text/plain")

    assert listing.value.retry_after == 0
    assert len(emulator.state.attachments(case)) == 1


def test_supports_attachments() -> None:
    """The connector declares that it implements the attachment methods."""
    assert DynamicsConnector.supports_attachments is True


# -- responses the emulator never returns, served by `responses` ------------------------------


class StaticTokens:
    """A token source that needs no identity provider."""

    def get_token(self, scope: str) -> str:
        return "token"

    def invalidate(self) -> None:
        return None


@dataclass
class Mocked:
    """A connector whose Web API calls `mock` serves, and the Web API root URL `api`."""

    connector: DynamicsConnector
    mock: responses.RequestsMock
    api: str


@pytest.fixture
def mocked(make_settings: MakeSettings) -> Iterator[Mocked]:
    settings = make_settings()
    dynamics = DynamicsConnector("dyn", settings, tokens=StaticTokens())
    with responses.RequestsMock() as mock:
        yield Mocked(dynamics, mock, f"{settings.url}/api/data/v9.2")
    dynamics.close()


def test_upload_without_id_rejected(mocked: Mocked) -> None:
    """A created note that comes back without an annotationid raises RejectedError."""
    row = {"filesize": 1, "isdocument": True}
    mocked.mock.post(f"{mocked.api}/annotations", json=row, status=201)

    with pytest.raises(RejectedError, match="without an annotationid"):
        mocked.connector.upload_attachment(MISSING, "a.txt", b"a", None)


def test_upload_without_file_rejected(mocked: Mocked) -> None:
    """A created note that is not a document raises RejectedError, even with the right size."""
    row = {"annotationid": MISSING, "filesize": 1, "isdocument": False}
    mocked.mock.post(f"{mocked.api}/annotations", json=row, status=201)

    with pytest.raises(RejectedError, match="without its file"):
        mocked.connector.upload_attachment(MISSING, "a.txt", b"a", None)


def test_download_damaged(mocked: Mocked) -> None:
    """A body whose decoded size differs from filesize raises PermanentError."""
    row = {"documentbody": "AAEC", "filesize": 5, "isdocument": True, "_objectid_value": MISSING}
    mocked.mock.get(f"{mocked.api}/annotations({MISSING})", json=row)
    meta = AttachmentMeta(source_id=MISSING, filename="a.bin")

    with pytest.raises(PermanentError, match="decodes to 3 bytes but filesize is 5"):
        mocked.connector.download_attachment(MISSING, meta)


def test_download_not_base64(mocked: Mocked) -> None:
    """A body that is not Base64 raises PermanentError."""
    row = {"documentbody": "no!", "filesize": 2, "isdocument": True, "_objectid_value": MISSING}
    mocked.mock.get(f"{mocked.api}/annotations({MISSING})", json=row)
    meta = AttachmentMeta(source_id=MISSING, filename="a.bin")

    with pytest.raises(PermanentError, match="not valid Base64"):
        mocked.connector.download_attachment(MISSING, meta)
