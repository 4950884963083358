"""Links and refs, snapshots, the comment map and poll cursors."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, and_, not_, select, update
from sqlalchemy.orm import Session

from tierbridge.core.errors import StoreError
from tierbridge.core.store._base import StoreBase, to_row
from tierbridge.core.store.rows import CommentRow, CursorRow, RefRow, SnapshotRow
from tierbridge.core.store.tables import CommentMap, Cursor, Link, Ref, Snapshot, utcnow

__all__ = ["LinkStore"]


def _select_ref(session: Session, connector: str, ticket_id: str) -> Ref | None:
    query = select(Ref).where(Ref.connector == connector, Ref.ticket_id == ticket_id)
    return session.scalar(query)


class LinkStore(StoreBase):
    """Links between copies of a ticket, their snapshots, the comment map and poll cursors."""

    def find_ref(self, connector: str, ticket_id: str) -> RefRow | None:
        """Return the ref of ticket `ticket_id` in `connector`, or None if it is not linked."""
        with self._read() as session:
            ref = _select_ref(session, connector, ticket_id)
            return to_row(RefRow, ref) if ref is not None else None

    def refs_of_link(self, link_id: int) -> list[RefRow]:
        """Return every ref of a link, oldest first, or [] for an unknown link."""
        with self._read() as session:
            refs = session.scalars(select(Ref).where(Ref.link_id == link_id).order_by(Ref.id))
            return [to_row(RefRow, ref) for ref in refs]

    def refs_of_connector(self, connector: str) -> list[RefRow]:
        """Return every linked ticket of one connector, oldest first."""
        with self._read() as session:
            query = select(Ref).where(Ref.connector == connector).order_by(Ref.id)
            return [to_row(RefRow, ref) for ref in session.scalars(query)]

    def detach_ref(self, connector: str, ticket_id: str) -> bool:
        """Remove a ticket from its link, so nothing syncs to or from it any more.

        Its snapshot and comment map rows stay. Returns False if the ticket was not linked.
        """
        with self._write() as session:
            ref = _select_ref(session, connector, ticket_id)
            if ref is None:
                return False
            session.delete(ref)
            return True

    def create_link(
        self, connector: str, ticket_id: str, ticket_key: str | None, tier: str
    ) -> RefRow:
        """Create a link whose first ref is this ticket, or return the ticket's existing ref."""
        with self._write() as session:
            existing = _select_ref(session, connector, ticket_id)
            if existing is not None:
                return to_row(RefRow, existing)

            link = Link()
            session.add(link)
            session.flush()
            if not self._insert_ref(session, link.id, connector, ticket_id, ticket_key, tier):
                # Another process linked the ticket between the select and the insert.
                session.delete(link)
            return to_row(RefRow, _select_ref(session, connector, ticket_id))

    def add_ref(
        self, link_id: int, connector: str, ticket_id: str, ticket_key: str | None, tier: str
    ) -> RefRow:
        """Add a ticket to an existing link. Adding it again to the same link returns its ref.

        Raises StoreError if the link does not exist or the ticket belongs to another link.
        """
        with self._write() as session:
            if session.get(Link, link_id) is None:
                msg = f"link {link_id} not found; create it with create_link first"
                raise StoreError(msg)

            self._insert_ref(session, link_id, connector, ticket_id, ticket_key, tier)
            ref = _select_ref(session, connector, ticket_id)
            if ref is None or ref.link_id != link_id:
                other = ref.link_id if ref is not None else None
                msg = (
                    f"ticket {connector}:{ticket_id} already belongs to link {other}, "
                    f"so it cannot join link {link_id}"
                )
                raise StoreError(msg)
            return to_row(RefRow, ref)

    def _insert_ref(
        self,
        session: Session,
        link_id: int,
        connector: str,
        ticket_id: str,
        ticket_key: str | None,
        tier: str,
    ) -> bool:
        """Insert a ref unless (connector, ticket_id) exists, and return whether it was inserted."""
        values = {
            "link_id": link_id,
            "connector": connector,
            "ticket_id": ticket_id,
            "ticket_key": ticket_key,
            "tier": tier,
        }
        statement = self._insert(Ref).values(values)
        statement = statement.on_conflict_do_nothing(index_elements=["connector", "ticket_id"])
        return session.scalar(statement.returning(Ref.id)) is not None

    def update_ref_key(self, connector: str, ticket_id: str, key: str | None) -> None:
        """Store a ticket's new human key (a Jira issue moved to another project changes it)."""
        with self._write() as session:
            statement = (
                update(Ref)
                .where(Ref.connector == connector, Ref.ticket_id == ticket_id)
                .values(ticket_key=key)
            )
            result = cast(CursorResult[Any], session.execute(statement))
            if result.rowcount == 0:
                msg = f"ticket {connector}:{ticket_id} is not linked, so its key cannot be updated"
                raise StoreError(msg)

    def get_snapshot(self, connector: str, ticket_id: str) -> SnapshotRow | None:
        """Return the state last synced for a ticket, or None before its first sync."""
        with self._read() as session:
            snapshot = session.get(Snapshot, (connector, ticket_id))
            return to_row(SnapshotRow, snapshot) if snapshot is not None else None

    def save_snapshot(
        self, connector: str, ticket_id: str, version: str | None, data: dict[str, Any]
    ) -> None:
        """Insert or replace a ticket's snapshot, with `updated_at` set to the current time."""
        values = {
            "connector": connector,
            "ticket_id": ticket_id,
            "version": version,
            "data": data,
            "updated_at": utcnow(),
        }
        statement = self._insert(Snapshot).values(values)
        statement = statement.on_conflict_do_update(
            index_elements=["connector", "ticket_id"],
            set_={
                "version": statement.excluded.version,
                "data": statement.excluded.data,
                "updated_at": statement.excluded.updated_at,
            },
        )
        with self._write() as session:
            session.execute(statement)

    def find_comment(self, connector: str, comment_id: str) -> CommentRow | None:
        """Return the map entry of comment `comment_id` in `connector`, or None if unknown."""
        with self._read() as session:
            query = select(CommentMap).where(
                CommentMap.connector == connector, CommentMap.comment_id == comment_id
            )
            entry = session.scalar(query)
            return to_row(CommentRow, entry) if entry is not None else None

    def record_comment(
        self,
        link_id: int,
        connector: str,
        comment_id: str,
        origin_connector: str,
        origin_comment_id: str,
        body_hash: str | None = None,
    ) -> None:
        """Record that a comment copies an origin (or is one, when both sides are equal).

        `body_hash` is the hash of the body copied, kept on the origin's own entry so that
        a later edit shows. A comment already recorded keeps its first entry, so calling
        this again does nothing.
        """
        values = {
            "link_id": link_id,
            "connector": connector,
            "comment_id": comment_id,
            "origin_connector": origin_connector,
            "origin_comment_id": origin_comment_id,
            "body_hash": body_hash,
        }
        statement = self._insert(CommentMap).values(values)
        statement = statement.on_conflict_do_nothing(index_elements=["connector", "comment_id"])
        with self._write() as session:
            session.execute(statement)

    def set_comment_hash(self, connector: str, comment_id: str, body_hash: str) -> None:
        """Store the hash of the body last copied from a recorded comment.

        Raises StoreError if the comment is not in the map.
        """
        statement = (
            update(CommentMap)
            .where(CommentMap.connector == connector, CommentMap.comment_id == comment_id)
            .values(body_hash=body_hash)
        )
        with self._write() as session:
            result = cast(CursorResult[Any], session.execute(statement))
            if result.rowcount == 0:
                msg = f"comment {connector}:{comment_id} is not in the comment map"
                raise StoreError(msg)

    def mirrors_of(self, origin_connector: str, origin_comment_id: str) -> list[CommentRow]:
        """Return the copies of an origin comment, oldest first, without the origin's own entry."""
        is_origin = and_(
            CommentMap.connector == origin_connector,
            CommentMap.comment_id == origin_comment_id,
        )
        query = (
            select(CommentMap)
            .where(
                CommentMap.origin_connector == origin_connector,
                CommentMap.origin_comment_id == origin_comment_id,
                not_(is_origin),
            )
            .order_by(CommentMap.id)
        )
        with self._read() as session:
            return [to_row(CommentRow, entry) for entry in session.scalars(query)]

    def get_cursor(self, connector: str) -> CursorRow | None:
        """Return the poll watermark of `connector`, or None before its first poll."""
        with self._read() as session:
            cursor = session.get(Cursor, connector)
            return to_row(CursorRow, cursor) if cursor is not None else None

    def set_cursor(self, connector: str, watermark: datetime, seen: Iterable[str]) -> None:
        """Insert or replace the poll watermark of `connector` and the ids seen at it."""
        values = {
            "connector": connector,
            "watermark": watermark,
            "seen": list(seen),
            "updated_at": utcnow(),
        }
        statement = self._insert(Cursor).values(values)
        statement = statement.on_conflict_do_update(
            index_elements=["connector"],
            set_={
                "watermark": statement.excluded.watermark,
                "seen": statement.excluded.seen,
                "updated_at": statement.excluded.updated_at,
            },
        )
        with self._write() as session:
            session.execute(statement)
