"""Incremental reads from odd cursors: the future, long ago, ties and sub-second cursors."""

from __future__ import annotations

from datetime import timedelta, timezone

from tierbridge.testing import Target


def test_future_cursor_reads_nothing(target: Target) -> None:
    """A cursor a day ahead of the system's clock returns no record and no error."""
    target.seed("Projector flickers")
    connector = target.connector()

    found = list(connector.changed_since(target.now() + timedelta(days=1)))

    assert found == []


def test_old_cursor_reads_all(target: Target) -> None:
    """A cursor long before any change returns every seeded ticket once."""
    first = target.seed("Projector flickers")
    second = target.seed("Badge reader offline")
    connector = target.connector()

    ids = [record.id for record in connector.changed_since(target.long_ago())]

    assert ids.count(first.id) == 1
    assert ids.count(second.id) == 1


def test_tied_timestamps_all_read(target: Target) -> None:
    """Tickets changed at the same instant are all read from a cursor at that instant."""
    tied = [target.seed(f"Desk phone {n} dead") for n in range(3)]
    connector = target.connector()
    stamps = [connector.get_record(seeded.id).updated for seeded in tied]

    ids = {record.id for record in connector.changed_since(min(stamps))}

    assert {seeded.id for seeded in tied} <= ids


def test_subsecond_cursor_floors(target: Target) -> None:
    """A cursor with a fraction of a second still returns the ticket changed in that second."""
    seeded = target.seed("Projector flickers")
    connector = target.connector()
    updated = connector.get_record(seeded.id).updated
    cursor = updated.replace(microsecond=0) + timedelta(microseconds=999_000)

    ids = {record.id for record in connector.changed_since(cursor)}

    assert seeded.id in ids


def test_offset_cursor_same_instant(target: Target) -> None:
    """A cursor given in another UTC offset selects the same tickets as its UTC form."""
    seeded = target.seed("Projector flickers")
    connector = target.connector()
    updated = connector.get_record(seeded.id).updated
    kolkata = updated.astimezone(timezone(timedelta(hours=5, minutes=30)))

    in_utc = {record.id for record in connector.changed_since(updated)}
    in_kolkata = {record.id for record in connector.changed_since(kolkata)}

    assert seeded.id in in_kolkata
    assert in_kolkata == in_utc


def test_changes_come_oldest_first(target: Target) -> None:
    """Records come in order of their change time, so a watermark can follow them."""
    target.seed("Projector flickers")
    target.advance(60)
    target.seed("Badge reader offline")
    connector = target.connector()

    stamps = [record.updated for record in connector.changed_since(target.long_ago())]

    assert stamps == sorted(stamps)
