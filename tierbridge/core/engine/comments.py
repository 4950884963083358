"""Copy new journal entries between the linked tickets, once each, visibility kept."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import structlog

from tierbridge.core.engine.edits import body_hash, find_earlier_copy, follow_edit
from tierbridge.core.errors import RejectedError

if TYPE_CHECKING:
    from tierbridge.core.model import Comment, Ticket
    from tierbridge.core.runtime import Runtime
    from tierbridge.core.store import CommentRow, RefRow

__all__ = ["LOCAL_ORIGIN", "CommentSync", "sync_comments"]

_log = structlog.get_logger(__name__)

#: Origin connector of the notes the daemon writes about one ticket only (rule notes, census
#: notes, skipped files): the comment map marks them seen, and they are copied nowhere.
LOCAL_ORIGIN = "tierbridge"


@dataclass
class CommentSync:
    """Outcome of one pass: comments copied or updated, and those refused with the reason."""

    copied: list[tuple[str, str]] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)
    #: (origin comment id, target connector) of each copy brought up to date after an edit.
    edited: list[tuple[str, str]] = field(default_factory=list)


def authorship_line(comment: Comment, ticket: Ticket) -> str:
    """The visible first line that keeps who wrote a copied comment, and where."""
    author = comment.author or "unknown author"
    return f"[{author} in {ticket.ref}]"


def sync_comments(
    rt: Runtime, ticket: Ticket, source: RefRow, targets: list[RefRow]
) -> CommentSync:
    """Copy the source ticket's comments that no earlier pass has seen to every target.

    A comment already in the comment map is an original we copied before, or a copy we made:
    either way it is not copied again, which is what stops comment loops. An original whose
    body changed since it was copied has its copies updated (see `engine.edits`). Internal
    notes stay internal: a target that rejects an internal note gets nothing, and the
    refusal is returned.
    """
    result = CommentSync()
    if not targets:
        return result

    connector = rt.connectors[source.connector]
    comments = rt.policy.call(lambda: connector.list_comments(source.ticket_id))
    for comment in comments:
        entry = rt.store.find_comment(source.connector, comment.source_id)
        if entry is not None:
            copy_body = _copy_body(comment, ticket)
            for target_name in follow_edit(rt, source, targets, comment, entry, copy_body):
                result.edited.append((comment.source_id, target_name))
            _copy_to_new_targets(rt, ticket, source, targets, comment, entry, result)
            continue
        if _unrecorded_copy(rt, source, comment):
            continue
        origin = (source.connector, comment.source_id)
        for target in targets:
            _copy_one(rt, ticket, source, target, comment, origin, result)
        rt.store.record_comment(
            source.link_id,
            source.connector,
            comment.source_id,
            source.connector,
            comment.source_id,
            body_hash=body_hash(comment.body),
        )
    return result


def _unrecorded_copy(rt: Runtime, source: RefRow, comment: Comment) -> bool:
    """Say whether an unknown comment is a copy this daemon posted but never recorded.

    A crash between posting a copy and recording it leaves the copy unknown to the comment
    map; copying it back would duplicate it on its origin. A comment written by the
    integration account is such a copy: the origin's retry finds and records it through its
    outbox reservation.
    NOTE: comments a person writes while logged in as the integration account are not copied.
    """
    own = rt.config.connectors[source.connector].integration_user
    if not own or comment.author is None:
        return False
    return comment.author.lower() == own.lower()


def _copy_to_new_targets(
    rt: Runtime,
    ticket: Ticket,
    source: RefRow,
    targets: list[RefRow],
    comment: Comment,
    entry: CommentRow,
    result: CommentSync,
) -> None:
    """Copy a known comment to the targets linked since it was copied (a new L3, say).

    A copy already starts with its authorship line, so it is copied as it is.
    """
    origin = (entry.origin_connector, entry.origin_comment_id)
    newer = [target for target in targets if target.created_at > entry.created_at]
    if origin[0] == LOCAL_ORIGIN or not newer:
        return
    holders = {row.connector for row in rt.store.mirrors_of(*origin)} | {origin[0]}
    is_copy = (entry.connector, entry.comment_id) != origin
    for target in newer:
        if target.connector not in holders:
            _copy_one(rt, ticket, source, target, comment, origin, result, as_is=is_copy)


def _copy_body(comment: Comment, ticket: Ticket) -> str:
    return f"{authorship_line(comment, ticket)}\n{comment.body}"


def _copy_one(
    rt: Runtime,
    ticket: Ticket,
    source: RefRow,
    target: RefRow,
    comment: Comment,
    origin: tuple[str, str],
    result: CommentSync,
    *,
    as_is: bool = False,
) -> None:
    origin_connector, origin_id = origin
    correlation = f"comment:{origin_connector}:{origin_id}:{target.connector}"
    body = comment.body if as_is else _copy_body(comment, ticket)
    earlier = rt.store.get_write(correlation)
    if earlier is not None and earlier.status == "done":
        return

    target_connector = rt.connectors[target.connector]
    copy_id = find_earlier_copy(rt, target, body) if earlier is not None else None
    if copy_id is None:
        rt.store.reserve_write(source.link_id, target.connector, "comment", correlation, rt.clock())
        try:
            posted = target_connector.add_comment(target.ticket_id, body, public=comment.public)
        except RejectedError as exc:
            result.refused.append((comment.source_id, str(exc)))
            _log.warning(
                "comment_refused",
                target=target.connector,
                comment=comment.source_id,
                error=str(exc),
            )
            rt.store.complete_write(correlation, "", rt.clock())
            return
        copy_id = posted.source_id

    rt.store.complete_write(correlation, copy_id, rt.clock())
    rt.store.record_comment(source.link_id, target.connector, copy_id, origin_connector, origin_id)
    result.copied.append((comment.source_id, target.connector))
