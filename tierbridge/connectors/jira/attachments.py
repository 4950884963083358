"""Files attached to Jira issues: list, download and upload through `JiraClient`.

The issue's `attachment` field lists every file at once (Jira does not page it), each with
`id`, `filename`, `size` in bytes, `mimeType` and `created`. Attachment ids are numbers that
are unique on the site, so a download needs only the id. Jira reports no checksum, so
`sha256` stays None.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tierbridge.connectors.jira.client import JiraClient
from tierbridge.connectors.jira.records import parse_jira_time
from tierbridge.core.errors import PermanentError, RejectedError
from tierbridge.core.model import AttachmentMeta

__all__ = ["DEFAULT_CONTENT_TYPE", "AttachmentStore", "to_attachment"]

#: Type sent for a file whose type is unknown.
DEFAULT_CONTENT_TYPE = "application/octet-stream"


def to_attachment(item: Mapping[str, Any]) -> AttachmentMeta:
    """Build AttachmentMeta from one entry of the `attachment` field or an upload response."""
    attachment_id = item["id"]
    if isinstance(attachment_id, bool) or not isinstance(attachment_id, str | int):
        raise TypeError("id is neither a string nor a number")
    filename = item["filename"]
    if not isinstance(filename, str):
        raise TypeError("filename is not a string")
    size = item.get("size")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int)):
        raise TypeError("size is not a whole number")
    return AttachmentMeta(
        source_id=str(attachment_id),
        filename=filename,
        size=size,
        content_type=item.get("mimeType") or None,
    )


class AttachmentStore:
    """Lists, downloads and uploads the files of one connector's issues."""

    def __init__(self, client: JiraClient) -> None:
        self._client = client

    def _where(self, operation: str, record: str | None) -> dict[str, Any]:
        return {"connector": self._client.connector, "operation": operation, "record": record}

    def list(self, ticket_id: str) -> list[AttachmentMeta]:
        """Return the metadata of every file on the issue, oldest first."""
        where = self._where("list attachments", ticket_id)
        items = self._client.issue_attachments(ticket_id)
        if not isinstance(items, list):
            msg = (
                "the issue has no attachment field; check that attachments are enabled on the site"
            )
            raise PermanentError(msg, **where)

        try:
            # Ids grow with upload order, so they break ties between files of one millisecond.
            ordered = sorted(
                items, key=lambda item: (parse_jira_time(item["created"]), _number(item))
            )
            return [to_attachment(item) for item in ordered]
        except (KeyError, TypeError, ValueError) as exc:
            msg = f"unreadable attachment entry ({type(exc).__name__}: {exc})"
            raise PermanentError(msg, **where) from exc

    def download(self, attachment: AttachmentMeta) -> bytes:
        """Return a file's bytes.

        Raise PermanentError when their length differs from the size in `attachment`.
        """
        where = self._where("download attachment", attachment.source_id)
        if not attachment.source_id.isdigit():
            msg = "Jira attachment ids are numbers; list the issue's files again"
            raise RejectedError(msg, **where)

        content = self._client.attachment_content(attachment.source_id)
        if attachment.size is not None and len(content) != attachment.size:
            msg = f"Jira sent {len(content)} bytes for a file it lists with {attachment.size}"
            raise PermanentError(msg, **where)
        return content

    def upload(
        self, ticket_id: str, filename: str, content: bytes, content_type: str | None
    ) -> AttachmentMeta:
        """Attach one file and return its metadata as Jira stored it.

        Raise RejectedError unless Jira confirms the file with an id and the size sent.
        """
        created = self._client.add_attachment(
            ticket_id, filename, content, content_type or DEFAULT_CONTENT_TYPE
        )
        return self._confirm(created, len(content), ticket_id)

    def _confirm(self, created: object, sent: int, ticket_id: str) -> AttachmentMeta:
        where = self._where("upload attachment", ticket_id)
        if (
            not isinstance(created, list)
            or len(created) != 1
            or not isinstance(created[0], Mapping)
        ):
            msg = "Jira's response does not contain exactly one attachment; check the issue's files before sending again"
            raise RejectedError(msg, **where)

        item = created[0]
        if not item.get("id"):
            msg = "the new attachment came back without an id; check the issue's files before sending again"
            raise RejectedError(msg, **where)
        if item.get("size") != sent:
            msg = f"Jira stored {item.get('size')!r} bytes of the {sent} sent; delete attachment {item['id']} and send the file again"
            raise RejectedError(msg, **where)
        try:
            return to_attachment(item)
        except (KeyError, TypeError) as exc:
            msg = f"unreadable attachment in the upload response ({type(exc).__name__}: {exc})"
            raise RejectedError(msg, **where) from exc


def _number(item: Mapping[str, Any]) -> int:
    text = str(item["id"])
    return int(text) if text.isdigit() else 0
