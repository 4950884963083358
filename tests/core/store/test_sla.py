"""The SLA tables: activity, clocks, tier moves, rule states and timers, on both backends."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from tierbridge.core.store import Store
from tierbridge.core.store.sla_rows import ActivityRow, ClockRow, RuleStateRow

NOW = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)


def activity(**changes: object) -> ActivityRow:
    row = ActivityRow("l1", "t-1", 1, "L1", opened_at=NOW, observed_at=NOW, status="new")
    return replace(row, **changes)


def clock(kind: str = "resolution", **changes: object) -> ClockRow:
    row = ClockRow("l1", "t-1", kind, 1, "L1", "24/7", NOW, running_since=NOW)
    return replace(row, **changes)


class TestTracking:
    def test_save_and_read(self, store: Store) -> None:
        """Activity and clocks come back as saved."""
        store.save_tracking(activity(), [clock("response"), clock("resolution")])

        assert store.get_activity("l1", "t-1") == activity()
        assert store.get_clocks("l1", "t-1") == {
            "response": clock("response"),
            "resolution": clock("resolution"),
        }

    def test_save_replaces(self, store: Store) -> None:
        """Saving again replaces the rows instead of adding new ones."""
        store.save_tracking(activity(), [clock()])
        later = NOW + timedelta(hours=2)

        store.save_tracking(
            activity(status="resolved", resolved_at=later),
            [clock(stopped_at=later, running_since=None, elapsed_seconds=7200.0)],
        )

        assert store.get_activity("l1", "t-1") == activity(status="resolved", resolved_at=later)
        assert store.get_clocks("l1", "t-1")["resolution"].elapsed_seconds == 7200.0
        assert len(store.list_clocks()) == 1
        assert len(store.list_activity()) == 1

    def test_unknown_ticket(self, store: Store) -> None:
        """A ticket never tracked has no activity and no clocks."""
        assert store.get_activity("l1", "nope") is None
        assert store.get_clocks("l1", "nope") == {}

    def test_record_breach_once(self, store: Store) -> None:
        """A breach time is set once and never moved by a later call."""
        store.save_tracking(activity(), [clock()])

        store.record_breach("l1", "t-1", "resolution", NOW)
        store.record_breach("l1", "t-1", "resolution", NOW + timedelta(hours=1))

        assert store.get_clocks("l1", "t-1")["resolution"].breached_at == NOW


class TestMoves:
    def test_moves_in_order(self, store: Store) -> None:
        """Moves of a link come back oldest first, with their rule."""
        store.add_move(1, NOW, "escalate", "L1", "L2", rule="p1", connector="l1", ticket_id="t-1")
        store.add_move(1, NOW, "return", "L2", "L1", rule=None, connector="l2", ticket_id="t-2")
        store.add_move(2, NOW, "escalate", "L1", "L3", rule="x", connector="l1", ticket_id="t-9")

        moves = store.moves_of_link(1)

        assert [(m.kind, m.from_tier, m.to_tier, m.rule) for m in moves] == [
            ("escalate", "L1", "L2", "p1"),
            ("return", "L2", "L1", None),
        ]
        assert len(store.list_moves()) == 3


class TestRuleStates:
    def test_save_and_replace(self, store: Store) -> None:
        """Rule verdicts are stored per ticket and rule, and replaced on save."""
        first = RuleStateRow("l1", "t-1", "p1", True, 1, NOW)
        store.save_rule_states([first, RuleStateRow("l1", "t-1", "p2", False, 0, None)])

        store.save_rule_states([replace(first, matched=False)])

        states = store.rule_states("l1", "t-1")
        assert states["p1"] == replace(first, matched=False)
        assert states["p2"].fired_count == 0
        assert store.rule_states("l1", "t-2") == {}


class TestTimers:
    def test_replace_arms_and_cancels(self, store: Store) -> None:
        """Wanted timers are armed, unwanted pending ones canceled, unchanged ones left."""
        due = NOW + timedelta(hours=4)
        armed, canceled = store.replace_timers("l1", "t-1", 1, {"a": due, "b": due})

        again, none_canceled = store.replace_timers("l1", "t-1", 1, {"a": due})

        assert sorted(t.name for t in armed) == ["a", "b"]
        assert canceled == []
        assert again == []
        assert [store.get_timer(t.id).status for t in armed] == ["pending", "canceled"]  # type: ignore[union-attr]
        assert none_canceled == [next(t.id for t in armed if t.name == "b")]
        assert [t.name for t in store.pending_timers()] == ["a"]

    def test_moved_timer(self, store: Store) -> None:
        """A wanted timer at a new time is moved and reported as armed."""
        store.replace_timers("l1", "t-1", 1, {"a": NOW})

        armed, _ = store.replace_timers("l1", "t-1", 1, {"a": NOW + timedelta(hours=1)})

        assert [t.due_at for t in armed] == [NOW + timedelta(hours=1)]
        assert len(store.timers_of("l1", "t-1")) == 1

    def test_fire_once(self, store: Store) -> None:
        """A pending timer fires once; firing it again, or at a stale time, does nothing."""
        (timer,), _ = store.replace_timers("l1", "t-1", 1, {"a": NOW})

        stale = store.fire_timer_row(timer.id, NOW - timedelta(seconds=1), NOW)
        first = store.fire_timer_row(timer.id, NOW, NOW)
        second = store.fire_timer_row(timer.id, NOW, NOW)

        assert (stale, first, second) == (False, True, False)
        fired = store.get_timer(timer.id)
        assert fired is not None
        assert fired.status == "fired"
        assert fired.fired_at == NOW

    def test_fired_timer_rearmed(self, store: Store) -> None:
        """A fired timer wanted again is set pending again, so a threshold can fire twice."""
        (timer,), _ = store.replace_timers("l1", "t-1", 1, {"a": NOW})
        store.fire_timer_row(timer.id, NOW, NOW)

        armed, _ = store.replace_timers("l1", "t-1", 1, {"a": NOW + timedelta(days=1)})

        assert [t.id for t in armed] == [timer.id]
        assert armed[0].status == "pending"


def test_list_refs(store: Store) -> None:
    """Every ref of every link is listed, oldest first."""
    first = store.create_link("l1", "t-1", "T-1", "L1")
    store.add_ref(first.link_id, "l2", "u-1", "U-1", "L2")
    store.create_link("l1", "t-2", "T-2", "L1")

    assert [(r.connector, r.ticket_id) for r in store.list_refs()] == [
        ("l1", "t-1"),
        ("l2", "u-1"),
        ("l1", "t-2"),
    ]
