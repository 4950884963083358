"""Tests for `handle_event` on a runtime wired to both emulators (ServiceNow L1, JSM L2)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.conftest import CORRELATION_FIELD, Stack
from tests.core.engine.support import actions, writes_during
from tierbridge.core.engine import MAX_EVENT_ATTEMPTS
from tierbridge.emulators.servicenow.state import ServiceNowState


def escalate(stack: Stack, **fields: str) -> tuple[str, dict[str, Any]]:
    """Open a P1 incident, handle its event, and return its sys_id and its JSM issue."""
    incident = stack.open_incident(impact="1", urgency="1", **fields)
    stack.process("snow", incident["sys_id"])
    (issue,) = stack.jsm_issues()
    return incident["sys_id"], issue


class TestEscalation:
    def test_priority_escalates_once(self, stack: Stack) -> None:
        """A P1 incident gets one JSM request, however often its events are handled."""
        incident = stack.open_incident(impact="1", urgency="1")

        first = stack.process("snow", incident["sys_id"])
        second = stack.process("snow", incident["sys_id"])

        issues = stack.jsm_issues()
        assert first.status == "done"
        assert second.status == "done"
        assert len(issues) == 1
        assert issues[0]["fields"][CORRELATION_FIELD] == f"snow:{incident['sys_id']}"
        assert actions(stack.rt, first.id).count("escalated") == 1
        assert "escalated" not in actions(stack.rt, second.id)

    def test_jsm_key_lands_in_correlation_id(self, stack: Stack) -> None:
        """The JSM key of the new request is written to the incident's correlation_id."""
        sys_id, issue = escalate(stack)

        incident = stack.l1.get_incident(sys_id)

        assert incident["correlation_id"] == issue["key"]

    def test_priority_p2_escalates(self, stack: Stack) -> None:
        """A P2 incident (impact 1, urgency 2) escalates as well."""
        incident = stack.open_incident(impact="1", urgency="2")

        stack.process("snow", incident["sys_id"])

        (issue,) = stack.jsm_issues()
        assert issue["fields"]["priority"]["name"] == "High"

    def test_l2_group_escalates(self, stack: Stack) -> None:
        """A P3 incident assigned to a group listed in the rule escalates."""
        incident = stack.open_incident(impact="2", urgency="2", assignment_group="Outsourced L2")

        event = stack.process("snow", incident["sys_id"])

        assert len(stack.jsm_issues()) == 1
        assert "escalated" in actions(stack.rt, event.id)

    def test_p3_other_group_stays(self, stack: Stack) -> None:
        """A P3 incident in a group the rule does not list stays at L1."""
        incident = stack.open_incident(impact="2", urgency="2", assignment_group="Service Desk")

        event = stack.process("snow", incident["sys_id"])

        assert event.status == "done"
        assert stack.jsm_issues() == []
        assert actions(stack.rt, event.id) == ["tracked"]
        assert stack.l1.get_incident(incident["sys_id"])["correlation_id"] == ""

    def test_later_raise_escalates(self, stack: Stack) -> None:
        """An incident raised to P2 after it was tracked at P3 escalates on that change."""
        incident = stack.open_incident(impact="2", urgency="2")
        stack.process("snow", incident["sys_id"])

        stack.l1.update_incident(incident["sys_id"], impact="1", urgency="2")
        stack.process("snow", incident["sys_id"])

        assert len(stack.jsm_issues()) == 1


class TestEcho:
    def test_echo_settles_in_one_round(self, stack: Stack) -> None:
        """Our write comes back as an event that writes nothing, on either side."""
        sys_id, issue = escalate(stack)
        stack.l2.transition_to(issue["key"], "In Progress")
        pushed = stack.process("jsm", issue["id"])

        echo_writes = writes_during(lambda: stack.process("snow", sys_id))
        again_writes = writes_during(lambda: stack.process("jsm", issue["id"]))

        assert "updated" in actions(stack.rt, pushed.id)
        assert stack.l1.get_incident(sys_id)["state"] == "2"
        assert echo_writes == []
        assert again_writes == []
        assert actions(stack.rt).count("updated") == 1

    def test_echo_logged_as_suppressed(self, stack: Stack) -> None:
        """The echo of a status write is logged as echo_suppressed."""
        sys_id, issue = escalate(stack)
        stack.l2.transition_to(issue["key"], "In Progress")
        stack.process("jsm", issue["id"])

        echo = stack.process("snow", sys_id)

        assert actions(stack.rt, echo.id) == ["echo_suppressed"]


class TestStaleEvents:
    def test_old_event_writes_nothing(self, stack: Stack) -> None:
        """An event for an older version than the one processed writes nothing."""
        incident = stack.open_incident(impact="1", urgency="1")
        stack.l1.update_incident(incident["sys_id"], short_description="VPN drops twice")
        stack.process("snow", incident["sys_id"])
        old_id = stack.rt.store.add_event(
            "snow",
            "late-delivery",
            incident["sys_id"],
            "updated",
            "0000000000",
            {},
            stack.rt.clock(),
        )
        assert old_id is not None

        writes = writes_during(stack.handle_due)

        late = stack.rt.store.get_event(old_id)
        assert writes == []
        assert late is not None
        assert late.status == "done"

    def test_snapshot_ahead_skips(self, stack: Stack) -> None:
        """A read older than the stored snapshot (a lagging replica) is skipped, not synced."""
        incident = stack.open_incident(impact="1", urgency="1")
        stack.rt.store.save_snapshot("snow", incident["sys_id"], "9999999999", {"title": "newer"})

        event = stack.process("snow", incident["sys_id"])

        assert event.status == "done"
        assert actions(stack.rt, event.id) == ["stale_skipped"]
        assert stack.jsm_issues() == []


class TestFailures:
    def test_mapping_error_parks_event(self, stack: Stack) -> None:
        """An unmapped state value parks that event as dead, and another ticket still syncs."""
        broken = stack.open_incident(impact="1", urgency="1")
        healthy = stack.open_incident(impact="1", urgency="1", short_description="Printer jam")
        state: ServiceNowState = stack.emulators.snow.state
        state.update("incident", broken["sys_id"], {"state": "4"}, user="agent.l1")

        dead = stack.queue("snow", broken["sys_id"])
        done = stack.queue("snow", healthy["sys_id"])
        stack.handle_due()

        dead_row = stack.rt.store.get_event(dead)
        done_row = stack.rt.store.get_event(done)
        assert dead_row is not None
        assert done_row is not None
        assert dead_row.status == "dead"
        assert "'4'" in (dead_row.last_error or "")
        assert done_row.status == "done"
        (issue,) = stack.jsm_issues()
        assert issue["fields"][CORRELATION_FIELD] == f"snow:{healthy['sys_id']}"

    def test_throttle_delays_retry(self, stack: Stack) -> None:
        """A 429 asking for 60 s puts the event back, due no earlier than 60 s later."""
        now = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
        stack.rt.clock = lambda: now
        incident = stack.open_incident(impact="1", urgency="1")
        stack.emulators.snow.inject_429(1, retry_after=60)

        event = stack.process("snow", incident["sys_id"])

        assert event.status == "pending"
        assert event.available_at >= now + timedelta(seconds=60)
        assert "429" in (event.last_error or "")
        assert actions(stack.rt, event.id) == ["retry"]

    def test_retries_end_in_dead(self, stack: Stack) -> None:
        """An event that keeps failing is parked as dead after MAX_EVENT_ATTEMPTS attempts."""
        now = [datetime(2026, 3, 2, 9, 30, tzinfo=UTC)]
        stack.rt.clock = lambda: now[0]
        incident = stack.open_incident(impact="1", urgency="1")
        event_id = stack.queue("snow", incident["sys_id"])

        for _ in range(MAX_EVENT_ATTEMPTS):
            stack.emulators.snow.inject_429(1, retry_after=60)
            stack.handle_due()
            now[0] += timedelta(hours=1)

        event = stack.rt.store.get_event(event_id)
        assert event is not None
        assert event.status == "dead"
        assert event.attempts == MAX_EVENT_ATTEMPTS
        assert actions(stack.rt, event_id).count("retry") == MAX_EVENT_ATTEMPTS - 1
        assert stack.jsm_issues() == []

    def test_short_throttle_retried_in_call(self, stack: Stack) -> None:
        """A 429 asking for 1 s is retried within the call and the event completes."""
        # NOTE: this test waits 1 s in real time. The connector's rate limiter sleeps out the
        # Retry-After, and its sleep cannot be replaced through the Runtime.
        incident = stack.open_incident(impact="1", urgency="1")
        stack.emulators.snow.inject_429(1, retry_after=1)

        event = stack.process("snow", incident["sys_id"])

        assert event.status == "done"
        assert len(stack.jsm_issues()) == 1

    def test_missing_record_not_found(self, stack: Stack) -> None:
        """An event for a deleted incident is parked with the not_found action."""
        incident = stack.open_incident()
        stack.emulators.snow.state.delete("incident", incident["sys_id"])

        event = stack.process("snow", incident["sys_id"])

        assert event.status == "dead"
        assert actions(stack.rt, event.id) == ["not_found"]


def test_unmapped_value_logged_by_key(stack: Stack) -> None:
    """A ticket whose value has no mapping is parked, and its log row carries the ticket's key."""
    incident = stack.open_incident(state="4")

    row = stack.process("snow", incident["sys_id"])

    assert row.status == "dead"
    logged = stack.rt.store.sync_log(ticket=incident["number"])
    assert [entry.action for entry in logged] == ["dead_lettered"]
