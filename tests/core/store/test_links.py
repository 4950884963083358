"""Links and refs, snapshots, the comment map and poll cursors."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone

import pytest

from tierbridge.core.errors import StoreError
from tierbridge.core.store import Store

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class TestLinks:
    def test_create_link(self, store: Store) -> None:
        """create_link makes a new link whose only ref is the ticket."""
        ref = store.create_link("jira", "10001", "OPS-1", "L1")

        assert ref.connector == "jira"
        assert ref.ticket_id == "10001"
        assert ref.ticket_key == "OPS-1"
        assert ref.tier == "L1"
        assert ref.created_at.tzinfo is UTC
        assert store.refs_of_link(ref.link_id) == [ref]

    def test_create_link_twice(self, store: Store) -> None:
        """Linking a ticket that is already linked returns its ref, with no second link."""
        first = store.create_link("jira", "10001", "OPS-1", "L1")

        again = store.create_link("jira", "10001", "OPS-1", "L1")

        assert again == first

    def test_separate_links(self, store: Store) -> None:
        """Two tickets linked separately get two links."""
        first = store.create_link("jira", "10001", "OPS-1", "L1")
        second = store.create_link("jira", "10002", "OPS-2", "L1")

        assert first.link_id != second.link_id

    def test_find_ref(self, store: Store) -> None:
        """find_ref returns the ref of a linked ticket and None for another one."""
        ref = store.create_link("jira", "10001", "OPS-1", "L1")

        assert store.find_ref("jira", "10001") == ref
        assert store.find_ref("jira", "99999") is None
        assert store.find_ref("servicenow", "10001") is None

    def test_add_ref(self, store: Store) -> None:
        """add_ref joins a ticket to a link, and refs_of_link lists refs oldest first."""
        source = store.create_link("servicenow", "abc123", "INC0010001", "L1")

        target = store.add_ref(source.link_id, "jira", "10001", "OPS-1", "L2")

        assert target.link_id == source.link_id
        assert store.refs_of_link(source.link_id) == [source, target]

    def test_add_ref_twice(self, store: Store) -> None:
        """Adding a ref again to its own link returns the stored ref."""
        source = store.create_link("servicenow", "abc123", "INC0010001", "L1")
        target = store.add_ref(source.link_id, "jira", "10001", "OPS-1", "L2")

        again = store.add_ref(source.link_id, "jira", "10001", "OPS-1", "L2")

        assert again == target
        assert len(store.refs_of_link(source.link_id)) == 2

    def test_add_ref_conflict(self, store: Store) -> None:
        """A ticket that belongs to one link cannot join another."""
        first = store.create_link("servicenow", "abc123", "INC0010001", "L1")
        second = store.create_link("jira", "10001", "OPS-1", "L2")

        with pytest.raises(StoreError, match="already belongs to link"):
            store.add_ref(first.link_id, "jira", "10001", "OPS-1", "L2")

        assert store.find_ref("jira", "10001") == second

    def test_add_ref_unknown_link(self, store: Store) -> None:
        """add_ref to a link that does not exist raises StoreError."""
        with pytest.raises(StoreError, match="link 42 not found"):
            store.add_ref(42, "jira", "10001", "OPS-1", "L2")

    def test_update_ref_key(self, store: Store) -> None:
        """update_ref_key stores the ticket's new key and keeps the rest."""
        ref = store.create_link("jira", "10001", "OPS-1", "L2")

        store.update_ref_key("jira", "10001", "SUP-7")

        assert store.find_ref("jira", "10001") == dataclasses.replace(ref, ticket_key="SUP-7")

    def test_update_unknown_ref_key(self, store: Store) -> None:
        """update_ref_key for a ticket that is not linked raises StoreError."""
        with pytest.raises(StoreError, match="is not linked"):
            store.update_ref_key("jira", "10001", "SUP-7")

    def test_unknown_link_empty(self, store: Store) -> None:
        """refs_of_link for an unknown link returns an empty list."""
        assert store.refs_of_link(42) == []


class TestSnapshots:
    def test_missing_snapshot(self, store: Store) -> None:
        """A ticket never synced has no snapshot."""
        assert store.get_snapshot("jira", "10001") is None

    def test_snapshot_upsert(self, store: Store) -> None:
        """save_snapshot inserts, then replaces version and data of the same ticket."""
        store.save_snapshot("jira", "10001", "0001", {"title": "Printer down", "impact": 2})
        first = store.get_snapshot("jira", "10001")

        store.save_snapshot("jira", "10001", "0002", {"title": "Printer fixed", "status": None})
        second = store.get_snapshot("jira", "10001")

        assert first is not None
        assert second is not None
        assert first.data == {"title": "Printer down", "impact": 2}
        assert second.version == "0002"
        assert second.data == {"title": "Printer fixed", "status": None}
        assert second.updated_at >= first.updated_at
        assert second.updated_at.tzinfo is UTC

    def test_snapshots_per_ticket(self, store: Store) -> None:
        """Snapshots of two tickets are kept apart, also across connectors."""
        store.save_snapshot("jira", "1", "a", {"title": "jira one"})
        store.save_snapshot("servicenow", "1", "b", {"title": "servicenow one"})

        jira = store.get_snapshot("jira", "1")
        servicenow = store.get_snapshot("servicenow", "1")

        assert jira is not None
        assert servicenow is not None
        assert jira.data == {"title": "jira one"}
        assert servicenow.data == {"title": "servicenow one"}


class TestComments:
    def test_record_and_find(self, store: Store) -> None:
        """A recorded comment is found by its own connector and id."""
        link = store.create_link("servicenow", "abc123", "INC0010001", "L1").link_id

        store.record_comment(link, "jira", "c-9", "servicenow", "j-1")
        found = store.find_comment("jira", "c-9")

        assert found is not None
        assert found.link_id == link
        assert found.origin_connector == "servicenow"
        assert found.origin_comment_id == "j-1"
        assert store.find_comment("servicenow", "c-9") is None

    def test_record_twice(self, store: Store) -> None:
        """Recording the same comment again keeps the first entry."""
        store.record_comment(1, "jira", "c-9", "servicenow", "j-1")
        first = store.find_comment("jira", "c-9")

        store.record_comment(1, "jira", "c-9", "servicenow", "j-2")

        assert store.find_comment("jira", "c-9") == first

    def test_mirrors_of(self, store: Store) -> None:
        """mirrors_of lists the copies of a comment, not the original's own entry."""
        store.record_comment(1, "servicenow", "j-1", "servicenow", "j-1")
        store.record_comment(1, "jira", "c-9", "servicenow", "j-1")
        store.record_comment(1, "dynamics", "d-3", "servicenow", "j-1")
        store.record_comment(1, "jira", "c-10", "servicenow", "j-2")

        mirrors = store.mirrors_of("servicenow", "j-1")

        assert [(row.connector, row.comment_id) for row in mirrors] == [
            ("jira", "c-9"),
            ("dynamics", "d-3"),
        ]
        assert store.mirrors_of("servicenow", "nothing") == []


class TestCursors:
    def test_missing_cursor(self, store: Store) -> None:
        """A connector never polled has no cursor."""
        assert store.get_cursor("jira") is None

    def test_cursor_round_trip(self, store: Store) -> None:
        """A watermark in any zone comes back as the same instant in UTC, with its seen ids."""
        paris = timezone(timedelta(hours=1))
        watermark = datetime(2026, 3, 1, 13, 30, 15, 123456, tzinfo=paris)

        store.set_cursor("jira", watermark, ["10001:0003", "10002:0001"])
        cursor = store.get_cursor("jira")

        assert cursor is not None
        assert cursor.watermark == watermark
        assert cursor.watermark.tzinfo is UTC
        assert cursor.watermark.hour == 12
        assert cursor.watermark.microsecond == 123456
        assert cursor.seen == ["10001:0003", "10002:0001"]

    def test_cursor_replace(self, store: Store) -> None:
        """set_cursor replaces the watermark and the seen ids of the connector."""
        store.set_cursor("jira", NOW, ["10001:0003"])
        store.set_cursor("servicenow", NOW, [])

        store.set_cursor("jira", NOW + timedelta(minutes=5), [])
        cursor = store.get_cursor("jira")

        assert cursor is not None
        assert cursor.watermark == NOW + timedelta(minutes=5)
        assert cursor.seen == []
        assert store.get_cursor("servicenow") is not None
