"""The attachment map: which file copies which, and the hash of its bytes."""

from __future__ import annotations

from sqlalchemy import select

from tierbridge.core.store._base import StoreBase, to_row
from tierbridge.core.store.rows import AttachmentRow
from tierbridge.core.store.tables import AttachmentMap

__all__ = ["AttachmentStore"]


class AttachmentStore(StoreBase):
    """Files seen on linked tickets: originals, the copies made of them, and their hashes."""

    def find_attachment(self, connector: str, attachment_id: str) -> AttachmentRow | None:
        """Return the map entry of file `attachment_id` in `connector`, or None if unknown."""
        query = select(AttachmentMap).where(
            AttachmentMap.connector == connector, AttachmentMap.attachment_id == attachment_id
        )
        with self._read() as session:
            entry = session.scalar(query)
            return to_row(AttachmentRow, entry) if entry is not None else None

    def attachments_with_hash(
        self, link_id: int, connector: str, sha256: str
    ) -> list[AttachmentRow]:
        """Return the files of one link in `connector` whose bytes hash to `sha256`."""
        query = (
            select(AttachmentMap)
            .where(
                AttachmentMap.link_id == link_id,
                AttachmentMap.sha256 == sha256,
                AttachmentMap.connector == connector,
            )
            .order_by(AttachmentMap.id)
        )
        with self._read() as session:
            return [to_row(AttachmentRow, entry) for entry in session.scalars(query)]

    def connectors_with_file(self, origin_connector: str, origin_attachment_id: str) -> set[str]:
        """Return the connectors that hold an original file or a copy of it."""
        query = select(AttachmentMap.connector).where(
            AttachmentMap.origin_connector == origin_connector,
            AttachmentMap.origin_attachment_id == origin_attachment_id,
        )
        with self._read() as session:
            return set(session.scalars(query))

    def record_attachment(
        self,
        link_id: int,
        connector: str,
        attachment_id: str,
        origin: tuple[str, str],
        sha256: str | None,
    ) -> None:
        """Record that a file copies `origin` (connector, file id), or is it when equal.

        A file already recorded keeps its first entry, so calling this again does nothing.
        """
        origin_connector, origin_attachment_id = origin
        values = {
            "link_id": link_id,
            "connector": connector,
            "attachment_id": attachment_id,
            "origin_connector": origin_connector,
            "origin_attachment_id": origin_attachment_id,
            "sha256": sha256,
        }
        statement = self._insert(AttachmentMap).values(values)
        statement = statement.on_conflict_do_nothing(index_elements=["connector", "attachment_id"])
        with self._write() as session:
            session.execute(statement)
