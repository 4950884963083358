"""Tier routing: escalate up to L3, hand back down, reopen, and flow back along the link."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.core.rules.memory import Harness

START = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)

#: Groups stand for the tiers, as each support line's move is an assignment change.
ROUTING = """
rules:
  - name: l1-to-l2
    when: {tier: L1, assignment_group: [Line 2]}
    then: [{escalate: L2}]
  - name: l1-to-l3
    when: {tier: L1, assignment_group: [Line 3]}
    then: [{escalate: L3}]
  - name: l2-to-l3
    when: {tier: L2, assignment_group: [Line 3]}
    then: [{escalate: L3}]
  - name: l2-back
    when: {tier: L2, assignment_group: [Line 1]}
    then: [{return_to: previous}]
  - name: l3-to-l2
    when: {tier: L3, assignment_group: [Line 2]}
    then: [{return_to: L2}]
  - name: l3-back
    when: {tier: L3, assignment_group: [Line 1]}
    then: [{return_to: previous}]
"""


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    built = Harness.from_yaml(tmp_path, ROUTING, START)
    yield built
    built.close()


def only(harness: Harness, connector: str) -> str:
    (ticket_id,) = harness.systems[connector].records
    return ticket_id


def moves(harness: Harness) -> list[tuple[str, str, str]]:
    return [(m.kind, m.from_tier, m.to_tier) for m in harness.rt.store.list_moves()]


def assign(harness: Harness, connector: str, ticket_id: str, group: str) -> None:
    harness.systems[connector].edit(ticket_id, group=group)
    harness.settle()


def open_escalated(harness: Harness) -> tuple[str, str]:
    l1_id = harness.systems["l1"].open(title="Payroll export fails", priority="P2", group="Line 1")
    harness.settle()
    assign(harness, "l1", l1_id, "Line 2")
    return l1_id, only(harness, "l2")


class TestEscalate:
    def test_l1_to_l2_to_l3(self, harness: Harness) -> None:
        """Each move up creates one linked ticket in the next system, named after the group."""
        l1_id, l2_id = open_escalated(harness)

        assign(harness, "l2", l2_id, "Line 3")

        l3_id = only(harness, "l3")
        refs = harness.rt.store.refs_of_link(harness.rt.store.find_ref("l1", l1_id).link_id)  # type: ignore[union-attr]
        assert [ref.tier for ref in refs] == ["L1", "L2", "L3"]
        assert moves(harness) == [("escalate", "L1", "L2"), ("escalate", "L2", "L3")]
        assert harness.systems["l3"].field(l3_id, "correlation_id") == f"l2:{l2_id}"
        assert harness.systems["l2"].field(l2_id, "group") == "Line 3"
        assert harness.systems["l3"].field(l3_id, "group") == "Line 3"

    def test_resolution_and_comments_flow_down(self, harness: Harness) -> None:
        """L3's resolution and public reply reach L2 and L1, each once."""
        l1_id, l2_id = open_escalated(harness)
        assign(harness, "l2", l2_id, "Line 3")
        l3 = harness.systems["l3"]
        l3_id = only(harness, "l3")

        l3.comment(l3_id, "Patched the exporter.", public=True)
        l3.edit(l3_id, status="resolved", close_notes="Patched.")
        harness.settle()

        for connector, ticket_id in (("l1", l1_id), ("l2", l2_id)):
            system = harness.systems[connector]
            assert system.field(ticket_id, "status") == "resolved"
            assert system.field(ticket_id, "close_notes") == "Patched."
            bodies = [c.body for c in system.records[ticket_id].comments]
            assert bodies == ["[agent in l3:L3-1]\nPatched the exporter."]
        assert [c.body for c in l3.records[l3_id].comments] == ["Patched the exporter."]

    def test_already_there_skipped(self, harness: Harness) -> None:
        """Escalating a ticket whose work is already at that tier creates nothing."""
        l1_id, _l2_id = open_escalated(harness)

        assign(harness, "l1", l1_id, "Line 1")
        assign(harness, "l1", l1_id, "Line 2")

        assert len(harness.systems["l2"].records) == 1
        rows = [r for r in harness.rt.store.sync_log(limit=1000) if r.action == "escalated"]
        assert sorted(r.outcome for r in rows) == ["ok", "skipped"]


class TestReturn:
    def test_back_to_previous_keeps_link(self, harness: Harness) -> None:
        """L2 hands back to L1: the move is recorded, both tickets stay linked."""
        l1_id, l2_id = open_escalated(harness)

        assign(harness, "l2", l2_id, "Line 1")

        assert moves(harness) == [("escalate", "L1", "L2"), ("return", "L2", "L1")]
        assert harness.systems["l1"].field(l1_id, "group") == "Line 1"
        link = harness.rt.store.find_ref("l2", l2_id)
        assert link is not None
        assert len(harness.rt.store.refs_of_link(link.link_id)) == 2

    def test_escalate_again_reopens(self, harness: Harness) -> None:
        """After a return, escalating again reopens the same L2 ticket, creating none."""
        l1_id, l2_id = open_escalated(harness)
        harness.systems["l2"].edit(l2_id, status="resolved", close_notes="Back to L1.")
        assign(harness, "l2", l2_id, "Line 1")
        harness.systems["l1"].edit(l1_id, status="in_progress")
        harness.settle()

        assign(harness, "l1", l1_id, "Line 2")

        assert list(harness.systems["l2"].records) == [l2_id]
        assert harness.systems["l2"].field(l2_id, "status") == "in_progress"
        assert moves(harness)[-1] == ("escalate", "L1", "L2")

    def test_return_to_skipped_tier_creates_it(self, harness: Harness) -> None:
        """L1 straight to L3, then L3 to L2: L2 is created once, from the L3 ticket."""
        l1_id = harness.systems["l1"].open(title="Ledger locked", priority="P2", group="Line 3")
        harness.settle()
        l3_id = only(harness, "l3")

        assign(harness, "l3", l3_id, "Line 2")

        l2_id = only(harness, "l2")
        create = harness.rt.store.get_write(f"l3:{l3_id}")
        assert create is not None
        assert (create.target_connector, create.result_id) == ("l2", l2_id)
        assert moves(harness) == [("escalate", "L1", "L3"), ("return", "L3", "L2")]
        assert harness.rt.store.find_ref("l1", l1_id) is not None

    def test_l2_after_direct_l3_uses_free_key(self, harness: Harness) -> None:
        """L1 to L3, back to L1, then to L2: L2 is created from L3's key, since L1's is used."""
        l1_id = harness.systems["l1"].open(title="Ledger locked", priority="P2", group="Line 3")
        harness.settle()
        l3_id = only(harness, "l3")
        assign(harness, "l3", l3_id, "Line 1")

        assign(harness, "l1", l1_id, "Line 2")

        l2_id = only(harness, "l2")
        create = harness.rt.store.get_write(f"l3:{l3_id}")
        assert create is not None
        assert (create.target_connector, create.result_id) == ("l2", l2_id)
        assert len(harness.systems["l3"].records) == 1
        assert harness.rt.store.pending_writes() == []

    def test_return_from_inactive_tier_skipped(self, harness: Harness) -> None:
        """An L2 ticket whose work moved on to L3 cannot hand back; the skip is logged."""
        _l1_id, l2_id = open_escalated(harness)
        assign(harness, "l2", l2_id, "Line 3")

        assign(harness, "l2", l2_id, "Line 1")

        rows = [r for r in harness.rt.store.sync_log(limit=1000) if r.action == "returned"]
        assert [(r.outcome, r.detail) for r in rows] == [
            ("skipped", "the work is at L3, not at L2")
        ]
