from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.connectors.dynamics.conftest import MakeSettings
from tests.emulators.dynamics.support import FakeClock, new_case
from tierbridge.connectors.dynamics.connector import DynamicsConnector
from tierbridge.core.errors import RejectedError
from tierbridge.emulators.dynamics import DynamicsEmulator
from tierbridge.emulators.dynamics.values import Ref


def test_add_internal_note(connector: DynamicsConnector, emulator: DynamicsEmulator) -> None:
    """An internal comment becomes a note on the case, subject from its first line."""
    case = new_case(emulator)

    comment = connector.add_comment(
        case["incidentid"], "[From INC0010023]\nRebooted.", public=False
    )

    [note] = emulator.state.notes(case["incidentid"])
    assert note["annotationid"] == comment.source_id
    assert note["subject"] == "[From INC0010023]"
    assert note["notetext"] == "[From INC0010023]\nRebooted."
    assert note["isdocument"] is False
    assert comment.public is False
    assert comment.author == "# tierbridge"
    assert comment.created == datetime(2024, 5, 1, 7, 15, 42, tzinfo=UTC)


def test_public_comment_rejected(connector: DynamicsConnector, emulator: DynamicsEmulator) -> None:
    """Notes have no public flag, so a public comment is refused and nothing is written."""
    case = new_case(emulator)

    with pytest.raises(RejectedError, match="public_notes_as"):
        connector.add_comment(case["incidentid"], "Hello customer", public=True)

    assert emulator.state.notes(case["incidentid"]) == []


def test_list_comments_oldest_first(
    connector: DynamicsConnector, emulator: DynamicsEmulator, clock: FakeClock
) -> None:
    """list_comments reads the case's notes, oldest first, all internal; files are skipped."""
    case = new_case(emulator)
    agent = emulator.state.seed.agent_user
    for text, is_file in (("first", False), (None, True), ("second", False)):
        values = {
            "notetext": text,
            "isdocument": is_file,
            "objectid": Ref("incident", case["incidentid"]),
        }
        emulator.state.create("annotation", values, user_id=agent)
        clock.advance(1)

    comments = connector.list_comments(case["incidentid"])

    assert [c.body for c in comments] == ["first", "second"]
    assert all(not c.public for c in comments)
    assert comments[0].author == "Alex Doe"


def test_file_note_text_is_comment(
    connector: DynamicsConnector, emulator: DynamicsEmulator, clock: FakeClock
) -> None:
    """A file note is a comment only when an agent typed text above the file."""
    case = new_case(emulator)
    agent = emulator.state.seed.agent_user
    for text in ("See the attached log.", None, "  \n "):
        values = {
            "notetext": text,
            "isdocument": True,
            "filename": "vpn.log",
            "documentbody": "bG9n",
            "objectid": Ref("incident", case["incidentid"]),
        }
        emulator.state.create("annotation", values, user_id=agent)
        clock.advance(1)

    comments = connector.list_comments(case["incidentid"])

    assert [c.body for c in comments] == ["See the attached log."]
    assert len(connector.list_attachments(case["incidentid"])) == 3


def test_uploaded_file_not_a_comment(
    connector: DynamicsConnector, emulator: DynamicsEmulator
) -> None:
    """A file the connector uploads never reads back as a comment, and a comment never as a file."""
    case = new_case(emulator)

    connector.upload_attachment(case["incidentid"], "trace.txt", b"trace", "text/plain")
    connector.add_comment(case["incidentid"], "Rebooted.", public=False)

    assert [c.body for c in connector.list_comments(case["incidentid"])] == ["Rebooted."]
    assert [f.filename for f in connector.list_attachments(case["incidentid"])] == ["trace.txt"]


def test_public_activity(
    make_settings: MakeSettings, emulator: DynamicsEmulator, clock: FakeClock
) -> None:
    """With public_notes_as, public comments are portal comments and read back as public."""
    dynamics = DynamicsConnector("dyn", make_settings(public_notes_as="adx_portalcomment"))
    case = new_case(emulator)
    dynamics.add_comment(case["incidentid"], "Internal", public=False)
    clock.advance(1)

    posted = dynamics.add_comment(case["incidentid"], "Hello customer", public=True)
    comments = dynamics.list_comments(case["incidentid"])
    dynamics.close()

    [activity] = emulator.state.rows("adx_portalcomment")
    assert activity["description"] == "Hello customer"
    assert activity["regardingobjectid"] == Ref("incident", case["incidentid"])
    assert posted.public is True
    assert [(c.body, c.public) for c in comments] == [("Internal", False), ("Hello customer", True)]
