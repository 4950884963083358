"""Tests of the resync plan's direction rules: ownership, last writer and held fields."""

from __future__ import annotations

from typing import Any

from tests.conftest import Stack
from tests.core.ops.support import escalate
from tierbridge.core.ops.plan import plan_resync
from tierbridge.core.sync_settings import SyncSettings


def edit_snapshot(stack: Stack, connector: str, ticket_id: str, **changes: Any) -> None:
    """Change a stored snapshot as if that side had been synced with other values."""
    snapshot = stack.rt.store.get_snapshot(connector, ticket_id)
    assert snapshot is not None
    stack.rt.store.save_snapshot(
        connector, ticket_id, snapshot.version, {**snapshot.data, **changes}
    )


def with_ownership(stack: Stack, **ownership: str) -> None:
    sync = SyncSettings.model_validate({"ownership": ownership})
    stack.rt.config = stack.rt.config.model_copy(update={"sync": sync})


class TestDirections:
    def test_in_sync_plans_nothing(self, stack: Stack) -> None:
        """Right after an escalation both sides agree, so the plan is empty."""
        escalate(stack)

        assert plan_resync(stack.rt) == []

    def test_lower_tier_field_flows_up(self, stack: Stack) -> None:
        """A title that differs is planned from L1 to L2 only, since L1 owns it."""
        pair = escalate(stack)
        edit_snapshot(stack, "jsm", pair.issue_id, title="Old title")

        (planned,) = plan_resync(stack.rt)

        assert (planned.source.connector, planned.target.connector) == ("snow", "jsm")
        assert [(c.field, c.current, c.native) for c in planned.changes] == [
            ("title", "Old title", {"summary": "VPN drops every hour"})
        ]

    def test_last_writer_newer_side_wins(self, stack: Stack) -> None:
        """A status that differs flows from the side whose record changed last."""
        pair = escalate(stack)
        edit_snapshot(
            stack, "jsm", pair.issue_id, status="in_progress", updated="2099-01-01T00:00:00Z"
        )

        (planned,) = plan_resync(stack.rt)

        assert planned.direction == "L2 -> L1"
        assert [(c.field, c.wanted, c.native) for c in planned.changes] == [
            ("status", "in_progress", {"state": "2"})
        ]

    def test_hold_is_listed_not_planned(self, stack: Stack) -> None:
        """Under `hold` a differing status is listed as held, with no write planned."""
        pair = escalate(stack)
        with_ownership(stack, status="hold")
        edit_snapshot(
            stack, "jsm", pair.issue_id, status="in_progress", updated="2099-01-01T00:00:00Z"
        )

        (planned,) = plan_resync(stack.rt)

        assert planned.changes == []
        assert planned.held == ["status"]

    def test_higher_tier_owner_flows_down(self, stack: Stack) -> None:
        """With `higher_tier` ownership of title, the L2 title is planned down to L1."""
        pair = escalate(stack)
        with_ownership(stack, title="higher_tier")
        edit_snapshot(stack, "jsm", pair.issue_id, title="Renamed at L2")

        (planned,) = plan_resync(stack.rt)

        assert planned.direction == "L2 -> L1"
        assert planned.changes[0].native == {"short_description": "Renamed at L2"}
