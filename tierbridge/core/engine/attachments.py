"""Copy files between linked tickets: once each, matched by content, within each target's limit.

A file is known once it is in the attachment map, as an original or as a copy we made, so
it is never copied again and never copied back. Before an upload the target is searched
for the same bytes (SHA-256), which finds a copy uploaded by a pass that crashed before it
recorded it, and a file people attached on both sides. A file larger than the target's
`attachments.max_size_mb` is not copied; an internal note on the target names it instead.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import structlog

from tierbridge.core.engine.comments import LOCAL_ORIGIN
from tierbridge.core.errors import NotFoundError, RejectedError

if TYPE_CHECKING:
    from tierbridge.core.model import AttachmentMeta, Ticket
    from tierbridge.core.runtime import Runtime
    from tierbridge.core.store import RefRow

__all__ = ["AttachmentSync", "sync_attachments"]

_log = structlog.get_logger(__name__)


@dataclass
class AttachmentSync:
    """Outcome of one pass, as (source file id, target connector, detail) triples."""

    copied: list[tuple[str, str, str]] = field(default_factory=list)
    #: Files whose bytes the target already had: nothing was uploaded.
    matched: list[tuple[str, str, str]] = field(default_factory=list)
    #: Files not copied, with the reason; a note on the target names each one.
    skipped: list[tuple[str, str, str]] = field(default_factory=list)


def sync_attachments(
    rt: Runtime, ticket: Ticket, source: RefRow, targets: list[RefRow]
) -> AttachmentSync:
    """Copy the source ticket's files that no earlier pass has seen to every target."""
    result = AttachmentSync()
    receivers = [target for target in targets if _takes_files(rt, target.connector)]
    if not receivers or not _takes_files(rt, source.connector):
        return result

    # TODO: the file list is read on every pass, even when the event changed no file.
    # TODO: a file deleted on one side stays on the others.
    connector = rt.connectors[source.connector]
    files = rt.policy.call(lambda: connector.list_attachments(source.ticket_id))
    for meta in files:
        entry = rt.store.find_attachment(source.connector, meta.source_id)
        origin = (
            (entry.origin_connector, entry.origin_attachment_id)
            if entry is not None
            else (source.connector, meta.source_id)
        )
        # A known file still goes to a ticket linked since it was copied (a new L3, say).
        holders = rt.store.connectors_with_file(*origin) if entry is not None else set()
        missing = [target for target in receivers if target.connector not in holders]
        if not missing:
            continue
        copy = _FileCopy(rt, ticket, source, meta, result, origin)
        try:
            for target in missing:
                copy.send_to(target)
        except NotFoundError:
            # Deleted between the list and the read: nothing is recorded, and the next list
            # no longer shows it.
            _log.info("attachment_gone", attachment=meta.source_id)
            continue
        if entry is None:
            rt.store.record_attachment(
                source.link_id, source.connector, meta.source_id, origin, copy.digest
            )
    return result


def _takes_files(rt: Runtime, name: str) -> bool:
    """Say whether a connector can and may send and receive files."""
    return rt.connectors[name].supports_attachments and (
        rt.config.connectors[name].attachments.enabled
    )


def format_size(size: int) -> str:
    """Write a byte count the way people read file sizes: `512 bytes`, `1.5 MB`."""
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.2f} MB"


class _FileCopy:
    """One source file on its way to the targets; `_read` downloads its bytes on first use."""

    def __init__(
        self,
        rt: Runtime,
        ticket: Ticket,
        source: RefRow,
        meta: AttachmentMeta,
        result: AttachmentSync,
        origin: tuple[str, str],
    ) -> None:
        self.rt = rt
        self.ticket = ticket
        self.source = source
        self.meta = meta
        self.result = result
        #: (connector, file id) of the original, which the copy of a copy records too.
        self.origin = origin
        self.content: bytes | None = None
        self.digest: str | None = None

    def send_to(self, target: RefRow) -> None:
        """Copy the file to one target, or match it, or skip it with a note; once."""
        origin_connector, origin_id = self.origin
        correlation = f"attachment:{origin_connector}:{origin_id}:{target.connector}"
        earlier = self.rt.store.get_write(correlation)
        if earlier is not None and earlier.status == "done":
            return

        limit = self.rt.config.connectors[target.connector].attachments.max_bytes
        if self.meta.size is not None and self.meta.size > limit:
            self._skip(target, correlation, _too_large(self.meta.size, limit, target))
            return
        content = self._read()
        if len(content) > limit:
            self._skip(target, correlation, _too_large(len(content), limit, target))
            return

        self.rt.store.reserve_write(
            self.source.link_id, target.connector, "attachment", correlation, self.rt.clock()
        )
        existing = self._same_bytes_on(target, content)
        if existing is not None:
            self._record(target, correlation, existing)
            self.result.matched.append((self.meta.source_id, target.connector, existing))
            return
        try:
            uploaded = self.rt.policy.call(lambda: self._upload(target, content))
        except RejectedError as exc:
            self._skip(target, correlation, f"{target.connector} refused it: {exc}")
            return
        self._record(target, correlation, uploaded.source_id)
        detail = f"{self.meta.filename} ({format_size(len(content))}) as {uploaded.source_id}"
        self.result.copied.append((self.meta.source_id, target.connector, detail))

    def _read(self) -> bytes:
        if self.content is None:
            connector = self.rt.connectors[self.source.connector]
            ticket_id, meta = self.source.ticket_id, self.meta
            self.content = self.rt.policy.call(
                lambda: connector.download_attachment(ticket_id, meta)
            )
            self.digest = hashlib.sha256(self.content).hexdigest()
        return self.content

    def _upload(self, target: RefRow, content: bytes) -> AttachmentMeta:
        connector = self.rt.connectors[target.connector]
        return connector.upload_attachment(
            target.ticket_id, self.meta.filename, content, self.meta.content_type
        )

    def _same_bytes_on(self, target: RefRow, content: bytes) -> str | None:
        """Return the id of a file on the target with the same bytes, or None.

        Files in the map are compared by their recorded hash; others of the same size
        are read and hashed.
        """
        digest = hashlib.sha256(content).hexdigest()
        known = self.rt.store.attachments_with_hash(self.source.link_id, target.connector, digest)
        if known:
            return known[0].attachment_id

        connector = self.rt.connectors[target.connector]
        listed = self.rt.policy.call(lambda: connector.list_attachments(target.ticket_id))
        for other in listed:
            if other.size is not None and other.size != len(content):
                continue
            if self.rt.store.find_attachment(target.connector, other.source_id) is not None:
                continue
            if self._hash_of(target, other) == digest:
                return other.source_id
        return None

    def _hash_of(self, target: RefRow, meta: AttachmentMeta) -> str:
        connector = self.rt.connectors[target.connector]
        content = self.rt.policy.call(lambda: connector.download_attachment(target.ticket_id, meta))
        return hashlib.sha256(content).hexdigest()

    def _record(self, target: RefRow, correlation: str, attachment_id: str) -> None:
        self.rt.store.complete_write(correlation, attachment_id, self.rt.clock())
        self.rt.store.record_attachment(
            self.source.link_id, target.connector, attachment_id, self.origin, self.digest
        )

    def _skip(self, target: RefRow, correlation: str, reason: str) -> None:
        """Leave an internal note on the target naming the file, once, and mark it done."""
        self.rt.store.reserve_write(
            self.source.link_id, target.connector, "attachment", correlation, self.rt.clock()
        )
        body = (
            f"[tierbridge] The file {self.meta.filename!r} attached to {self.ticket.ref} "
            f"was not copied here: {reason}."
        )
        note_id = self._post_note(target, body)
        self.rt.store.complete_write(correlation, note_id, self.rt.clock())
        self.result.skipped.append((self.meta.source_id, target.connector, reason))
        _log.warning(
            "attachment_skipped",
            target=target.connector,
            attachment=self.meta.source_id,
            reason=reason,
        )

    def _post_note(self, target: RefRow, body: str) -> str:
        """Post the note on the target and return its id, or "" if the target refused it."""
        connector = self.rt.connectors[target.connector]
        try:
            note = self.rt.policy.call(
                lambda: connector.add_comment(target.ticket_id, body, public=False)
            )
        except RejectedError as exc:
            _log.warning("attachment_note_refused", target=target.connector, error=str(exc))
            return ""
        origin_id = f"attachment-skipped:{self.meta.source_id}:{target.connector}"
        self.rt.store.record_comment(
            target.link_id, target.connector, note.source_id, LOCAL_ORIGIN, origin_id
        )
        return note.source_id


def _too_large(size: int, limit: int, target: RefRow) -> str:
    return (
        f"it is {format_size(size)}, over the {format_size(limit)} limit for "
        f"{target.connector} (connectors.{target.connector}.attachments.max_size_mb)"
    )
