"""Comments: public replies and internal notes keep their visibility both ways."""

from __future__ import annotations

from tierbridge.testing import Target

PUBLIC = "We are looking into it."
INTERNAL = "Escalating to the network team."


def test_public_comment_round_trip(target: Target) -> None:
    """A public comment is posted as public and listed as public with its source id."""
    seeded = target.seed("Email bounces")
    connector = target.connector()

    posted = connector.add_comment(seeded.id, PUBLIC, public=True)
    listed = {comment.source_id: comment for comment in connector.list_comments(seeded.id)}

    assert posted.public is True
    assert posted.body == PUBLIC
    assert listed[posted.source_id].public is True
    assert listed[posted.source_id].body == PUBLIC


def test_internal_comment_stays_internal(target: Target) -> None:
    """An internal note is posted as internal and never listed as public."""
    seeded = target.seed("Email bounces")
    connector = target.connector()

    posted = connector.add_comment(seeded.id, INTERNAL, public=False)
    listed = {comment.source_id: comment for comment in connector.list_comments(seeded.id)}

    assert posted.public is False
    assert listed[posted.source_id].public is False
    assert listed[posted.source_id].body == INTERNAL


def test_comments_listed_oldest_first(target: Target) -> None:
    """Comments come back oldest first, each once."""
    seeded = target.seed("Email bounces")
    connector = target.connector()
    first = connector.add_comment(seeded.id, INTERNAL, public=False)
    target.advance(60)
    second = connector.add_comment(seeded.id, "Mail relay restarted.", public=False)

    ids = [comment.source_id for comment in connector.list_comments(seeded.id)]

    assert ids.count(first.source_id) == 1
    assert ids.count(second.source_id) == 1
    assert ids.index(first.source_id) < ids.index(second.source_id)
