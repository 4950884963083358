"""Follow edits of comments that were copied: update each copy, or post the new text.

The comment map keeps, on each origin's own row, the SHA-256 of the body last copied. Each
event of a ticket lists its comments, a Jira `comment_updated` webhook included. When the
listing shows another body, each target gets the new text. It is written in place where the
target's API can edit a comment (`Connector.update_comment`), and otherwise posted as a new
entry that starts with "Edited:". The hash is stored once every target has the text, so a
crash in between repeats the update, which is harmless, or finds the posted entry through
the outbox.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from tierbridge.core.errors import NotFoundError, RejectedError

if TYPE_CHECKING:
    from tierbridge.core.model import Comment
    from tierbridge.core.runtime import Runtime
    from tierbridge.core.store import CommentRow, RefRow

__all__ = ["body_hash", "edited_body", "find_earlier_copy", "follow_edit"]


def body_hash(body: str) -> str:
    """Return the hex SHA-256 of a comment body, ignoring surrounding whitespace."""
    return hashlib.sha256(body.strip().encode("utf-8")).hexdigest()


def edited_body(copy_body: str) -> str:
    """Return the text of the entry posted where a copy cannot be edited in place."""
    return f"Edited: {copy_body}"


def follow_edit(
    rt: Runtime,
    source: RefRow,
    targets: list[RefRow],
    comment: Comment,
    entry: CommentRow,
    copy_body: str,
) -> list[str]:
    """Bring the copies of an edited origin comment up to date; return the targets written.

    `entry` is the comment's row in the comment map and `copy_body` the text a copy carries
    (authorship line and body). A row of a copy, or one whose hash matches, needs nothing.
    """
    is_origin = entry.connector == entry.origin_connector and (
        entry.comment_id == entry.origin_comment_id
    )
    # NOTE: an edit of a copy, made by a person in the target, is not copied back.
    if not is_origin:
        return []
    new_hash = body_hash(comment.body)
    if entry.body_hash == new_hash:
        return []
    if entry.body_hash is None:
        # A row from before hashes were kept: take the body as the one copied.
        rt.store.set_comment_hash(source.connector, comment.source_id, new_hash)
        return []

    written = []
    by_connector = {target.connector: target for target in targets}
    copies = rt.store.mirrors_of(source.connector, comment.source_id)
    for connector_name in dict.fromkeys(copy.connector for copy in copies):
        target = by_connector.get(connector_name)
        if target is None:
            continue
        first = next(copy for copy in copies if copy.connector == connector_name)
        _update_copy(rt, source, target, comment, first.comment_id, copy_body, new_hash)
        written.append(target.connector)
    rt.store.set_comment_hash(source.connector, comment.source_id, new_hash)
    return written


def _update_copy(
    rt: Runtime,
    source: RefRow,
    target: RefRow,
    comment: Comment,
    copy_id: str,
    copy_body: str,
    new_hash: str,
) -> None:
    connector = rt.connectors[target.connector]
    try:
        rt.policy.call(lambda: connector.update_comment(target.ticket_id, copy_id, copy_body))
    except (RejectedError, NotFoundError):
        # NOTE: ServiceNow journal entries cannot be edited, so the new text goes in a new
        # entry; the first copy keeps the old text. A copy deleted in the target does too.
        _post_edit(rt, source, target, comment, edited_body(copy_body), new_hash)


def _post_edit(
    rt: Runtime, source: RefRow, target: RefRow, comment: Comment, body: str, new_hash: str
) -> None:
    """Post the edited text as a new entry, once, and map it as a copy of the origin."""
    correlation = f"comment-edit:{source.connector}:{comment.source_id}:{new_hash[:16]}"
    correlation += f":{target.connector}"
    earlier = rt.store.get_write(correlation)
    if earlier is not None and earlier.status == "done":
        return

    connector = rt.connectors[target.connector]
    posted_id = find_earlier_copy(rt, target, body) if earlier is not None else None
    if posted_id is None:
        rt.store.reserve_write(source.link_id, target.connector, "comment", correlation, rt.clock())
        posted = connector.add_comment(target.ticket_id, body, public=comment.public)
        posted_id = posted.source_id
    rt.store.complete_write(correlation, posted_id, rt.clock())
    rt.store.record_comment(
        source.link_id, target.connector, posted_id, source.connector, comment.source_id
    )


def find_earlier_copy(rt: Runtime, target: RefRow, body: str) -> str | None:
    """Search the target for a copy an unconfirmed earlier attempt may have posted."""
    connector = rt.connectors[target.connector]
    for existing in rt.policy.call(lambda: connector.list_comments(target.ticket_id)):
        if existing.body.strip() == body.strip():
            return existing.source_id
    return None
