"""The attachment map on both backends: record once, find by id, find by content hash."""

from __future__ import annotations

from tierbridge.core.store import Store

HASH_A = "a" * 64
HASH_B = "b" * 64


def test_record_and_find(store: Store) -> None:
    """A recorded file is found by its own connector and id, with its origin and hash."""
    link = store.create_link("snow", "abc123", "INC0010001", "L1").link_id

    store.record_attachment(link, "jsm", "10500", ("snow", "att-1"), HASH_A)
    found = store.find_attachment("jsm", "10500")

    assert found is not None
    assert (found.link_id, found.origin_connector, found.origin_attachment_id) == (
        link,
        "snow",
        "att-1",
    )
    assert found.sha256 == HASH_A
    assert store.find_attachment("snow", "10500") is None


def test_record_twice_keeps_first(store: Store) -> None:
    """Recording the same file again keeps its first entry."""
    store.record_attachment(1, "jsm", "10500", ("snow", "att-1"), HASH_A)
    first = store.find_attachment("jsm", "10500")

    store.record_attachment(1, "jsm", "10500", ("snow", "att-2"), HASH_B)

    assert store.find_attachment("jsm", "10500") == first


def test_unread_file_has_no_hash(store: Store) -> None:
    """A file never read (too large for every target) is recorded without a hash."""
    store.record_attachment(1, "snow", "att-9", ("snow", "att-9"), None)

    found = store.find_attachment("snow", "att-9")

    assert found is not None
    assert found.sha256 is None


def test_find_by_hash_within_link_and_connector(store: Store) -> None:
    """Only files of the same link, in the connector asked, with the same hash match."""
    store.record_attachment(1, "jsm", "10500", ("snow", "att-1"), HASH_A)
    store.record_attachment(1, "snow", "att-1", ("snow", "att-1"), HASH_A)
    store.record_attachment(2, "jsm", "10600", ("snow", "att-7"), HASH_A)
    store.record_attachment(1, "jsm", "10501", ("snow", "att-2"), HASH_B)

    found = store.attachments_with_hash(1, "jsm", HASH_A)

    assert [row.attachment_id for row in found] == ["10500"]
    assert store.attachments_with_hash(3, "jsm", HASH_A) == []
