"""The journal of a case: notes (`annotation`) and, optionally, one activity table.

NOTE: Dataverse notes have no public/internal flag. This connector treats every note as
internal, so a public comment is rejected unless `public_notes_as` names an activity table
(`adx_portalcomment` for portal comments, say). Then public comments are written there, and
every row of that table regarding the case reads back as public. An `email` row written
this way is a draft: nothing sends it to the customer.

A note with a file (`isdocument` true) is read as a comment only when its `notetext` has
text, which an agent may type above the file; `FileStore` reads the file itself. The files
this connector uploads carry no text, so they never come back as comments.
"""

from __future__ import annotations

from typing import Any

from tierbridge.connectors.dynamics.client import WebApiClient
from tierbridge.connectors.dynamics.records import NOTE_SELECT, to_comment
from tierbridge.core.errors import RejectedError
from tierbridge.core.model import Comment

__all__ = ["NoteStore"]

_SUBJECT_CHARS = 100


def _subject(body: str) -> str:
    first_line = body.strip().splitlines()[0] if body.strip() else ""
    return first_line[:_SUBJECT_CHARS] or "Note"


def _is_comment(note: dict[str, Any]) -> bool:
    """Tell whether a note is a comment: a text note, or a file note with typed text."""
    return note.get("isdocument") is not True or bool(str(note.get("notetext") or "").strip())


class NoteStore:
    """Reads and writes the comments of cases for one connector."""

    def __init__(self, client: WebApiClient, public_table: str | None) -> None:
        self._client = client
        self._public_table = public_table

    def _rows(
        self, entity_set: str, select: str, where: str, order_id: str
    ) -> list[dict[str, Any]]:
        params = {"$select": select, "$filter": where, "$orderby": f"createdon asc,{order_id} asc"}
        rows: list[dict[str, Any]] = []
        for page in self._client.pages(
            entity_set, params, operation="list_comments", record=entity_set
        ):
            rows.extend(page)
        return rows

    def list(self, ticket_id: str) -> list[Comment]:
        """Return the case's notes (internal) and public activities, oldest first."""
        notes = self._rows(
            "annotations",
            f"annotationid,isdocument,{NOTE_SELECT}",
            f"_objectid_value eq {ticket_id} and (isdocument eq false or notetext ne null)",
            "annotationid",
        )
        comments = [
            to_comment(row, public=False, id_column="annotationid", text_column="notetext")
            for row in notes
            if _is_comment(row)
        ]
        if self._public_table is not None:
            activities = self._rows(
                f"{self._public_table}s",
                "activityid,subject,description,createdon,_createdby_value",
                f"_regardingobjectid_value eq {ticket_id}",
                "activityid",
            )
            comments += [
                to_comment(row, public=True, id_column="activityid", text_column="description")
                for row in activities
            ]
        return sorted(comments, key=lambda c: (c.created is None, c.created, c.source_id))

    def add(self, ticket_id: str, body: str, *, public: bool) -> Comment:
        """Post a note, or a public activity; raise RejectedError for a public note without one."""
        case = f"/incidents({ticket_id})"
        if not public:
            payload = {
                "subject": _subject(body),
                "notetext": body,
                "isdocument": False,
                "objectid_incident@odata.bind": case,
            }
            row = self._client.create(
                "annotations", payload, f"annotationid,{NOTE_SELECT}", operation="add_comment"
            )
            return to_comment(row, public=False, id_column="annotationid", text_column="notetext")

        if self._public_table is None:
            msg = (
                "Dynamics notes are internal and have no public flag; set public_notes_as to the "
                "activity table that reaches the customer, or copy this comment as internal"
            )
            raise RejectedError(
                msg, connector=self._client.connector, operation="add_comment", record=case[1:]
            )
        payload = {
            "subject": _subject(body),
            "description": body,
            "regardingobjectid_incident@odata.bind": case,
        }
        select = "activityid,subject,description,createdon,_createdby_value"
        row = self._client.create(
            f"{self._public_table}s", payload, select, operation="add_comment"
        )
        return to_comment(row, public=True, id_column="activityid", text_column="description")
