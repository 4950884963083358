"""Tests of the sync log view: ticket filters, following new rows, and the rendered cells."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tierbridge.core.ops.synclog import LogFilter, follow_rows, recent_rows, row_cells, row_json
from tierbridge.core.store import Store, SyncLogEntry

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(f"sqlite:///{tmp_path / 'state.db'}")
    yield opened
    opened.close()


def log(store: Store, action: str, at: datetime, **values: object) -> None:
    entry = SyncLogEntry(connector="snow", ticket_id="abc", action=action, at=at)
    for name, value in values.items():
        setattr(entry, name, value)
    store.log(entry)


class TestFilter:
    def test_linked_ticket_uses_link(self, store: Store) -> None:
        """A linked ticket's filter matches every row of its link, whichever side logged it."""
        ref = store.create_link("snow", "abc", "INC1", "L1")
        store.add_ref(ref.link_id, "jsm", "100", "L2-1", "L2")
        log(store, "escalated", T0, link_id=ref.link_id)
        log(store, "updated", T0, link_id=ref.link_id, connector="jsm", ticket_id="100")
        log(store, "tracked", T0, ticket_id="other")

        filters = LogFilter(ticket="snow:abc").resolved(store)

        assert filters.link_id == ref.link_id
        assert [row.action for row in recent_rows(store, filters, 10)] == ["escalated", "updated"]

    def test_key_finds_link_through_rows(self, store: Store) -> None:
        """A bare key finds the link through a row that names it."""
        ref = store.create_link("snow", "abc", "INC1", "L1")
        log(store, "tracked", T0, link_id=ref.link_id, ticket_key="INC1")

        assert LogFilter(ticket="INC1").resolved(store).link_id == ref.link_id

    def test_unlinked_ticket_filters_rows(self, store: Store) -> None:
        """An unlinked ticket filters on its id or key within the given connector."""
        log(store, "no_tier", T0, connector="other", ticket_id="9")
        log(store, "no_tier", T0, connector="snow", ticket_id="9")

        filters = LogFilter(ticket="other:9").resolved(store)

        assert [row.connector for row in recent_rows(store, filters, 10)] == ["other"]


class TestFollow:
    def test_yields_rows_after_last(self, store: Store) -> None:
        """Rows logged after the last one shown are yielded once each, in time order."""
        log(store, "tracked", T0)
        (last,) = store.sync_log(limit=1)
        log(store, "updated", T0)  # same pass, same time as the last row shown
        checks = iter([True, True, False])

        def sleep(_seconds: float) -> None:
            log(store, "commented", T0 + timedelta(seconds=1))

        rows = list(
            follow_rows(store, LogFilter(), last, sleep=sleep, keep_going=lambda: next(checks))
        )

        assert [row.action for row in rows] == ["updated", "commented"]

    def test_applies_filters(self, store: Store) -> None:
        """Followed rows keep the filters: a failed-only view skips ok rows."""
        log(store, "updated", T0)
        log(store, "retry", T0, outcome="failed", error="snow get_record (HTTP 503): down")
        checks = iter([True, False])

        rows = list(
            follow_rows(
                store,
                LogFilter(outcome="failed"),
                None,
                sleep=lambda _s: None,
                keep_going=lambda: next(checks),
            )
        )

        assert [row.action for row in rows] == ["retry"]


class TestRender:
    def test_cells_say_what_and_why(self, store: Store) -> None:
        """A row's cells show the target, the fields and both detail and error."""
        log(
            store,
            "dead_lettered",
            T0,
            ticket_key="INC1",
            target_connector="jsm",
            target_ticket="L2-1",
            fields=["status"],
            outcome="failed",
            detail="on update",
            error="jsm update issue L2-1 (HTTP 400): rejected",
        )
        (row,) = store.sync_log(limit=1)

        cells = row_cells(row)

        assert cells[1:6] == ("snow:INC1", "dead_lettered", "failed", "jsm:L2-1", "status")
        assert cells[6] == "on update; jsm update issue L2-1 (HTTP 400): rejected"
        assert row_json(row)["at"] == "2026-03-01T08:00:00+00:00"
