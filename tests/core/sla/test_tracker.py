"""Moving a ticket's clocks and counters from one observation to the next."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tierbridge.core.model import Ticket, TicketRef
from tierbridge.core.sla.policy import SlaPolicy
from tierbridge.core.sla.settings import SlaSettings
from tierbridge.core.sla.tracker import Tracking, advance, observed_at
from tierbridge.core.store import RefRow

START = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)
REF = RefRow(1, 1, "l1", "t-1", "T-1", "L1", START)
POLICY = SlaPolicy.from_settings(
    SlaSettings.model_validate(
        {
            "targets": {
                "L1": {
                    "P1": {"response": "30m", "resolution": "2h"},
                    "P3": {"response": "1h", "resolution": "8h"},
                }
            }
        }
    )
)


def ticket(**fields: Any) -> Ticket:
    values = {"status": "new", "priority": "P3", **fields}
    return Ticket(ref=TicketRef(connector="l1", id="t-1"), created=START, **values)


def at(hours: float) -> datetime:
    return START + timedelta(hours=hours)


class Replay:
    """Feeds observations to `advance` as the engine would, one after the other."""

    def __init__(self) -> None:
        self.state: Tracking | None = None

    def see(self, hours: float, changed: set[str] | None = None, **fields: Any) -> Tracking:
        previous = self.state.activity if self.state else None
        clocks = self.state.clocks if self.state else {}
        self.state = advance(previous, clocks, ticket(**fields), REF, at(hours), POLICY, changed)
        return self.state


class TestFirstObservation:
    def test_clocks_start_at_creation(self) -> None:
        """Both clocks start when the ticket was created, with the priority's targets."""
        state = Replay().see(0.5)

        response, resolution = state.clocks["response"], state.clocks["resolution"]
        assert response.started_at == START
        assert response.due_at == at(1)
        assert resolution.due_at == at(8)
        assert state.activity.opened_at == START

    def test_created_in_progress(self) -> None:
        """A ticket first seen in progress is acknowledged at that observation."""
        state = Replay().see(0.25, status="in_progress")

        assert state.activity.acknowledged_at == at(0.25)
        assert state.clocks["response"].stopped_at == at(0.25)
        assert state.clocks["response"].elapsed_seconds == 900


class TestTransitions:
    def test_assignee_acknowledges(self) -> None:
        """An assignee on a new ticket stops the response clock."""
        replay = Replay()
        replay.see(0)

        state = replay.see(0.5, assignee="ana@example.com")

        assert state.clocks["response"].stopped_at == at(0.5)
        assert state.clocks["resolution"].stopped_at is None

    def test_synced_status_no_acknowledgement(self) -> None:
        """A status tierbridge wrote from another tier does not acknowledge; a person's does."""
        replay = Replay()
        replay.see(0)

        synced = replay.see(1, changed=set(), status="in_progress")
        taken = replay.see(2, changed={"assignee"}, status="in_progress", assignee="bo@example.com")

        assert synced.activity.acknowledged_at is None
        assert taken.activity.acknowledged_at == at(2)

    def test_response_stays_stopped(self) -> None:
        """A response clock stopped by a resolution does not restart when the ticket reopens."""
        replay = Replay()
        replay.see(0)
        replay.see(1, changed=set(), status="resolved")

        state = replay.see(2, changed=set(), status="in_progress")

        assert state.clocks["response"].stopped_at == at(1)
        assert state.clocks["resolution"].running_since == at(2)

    def test_pending_pauses_and_resumes(self) -> None:
        """Pending pauses the resolution clock; leaving it resumes with the time kept."""
        replay = Replay()
        replay.see(0, status="in_progress")
        paused = replay.see(2, status="pending")

        resumed = replay.see(5, status="in_progress")

        assert paused.clocks["resolution"].running_since is None
        assert paused.clocks["resolution"].elapsed_seconds == 2 * 3600
        assert resumed.clocks["resolution"].running_since == at(5)
        assert resumed.clocks["resolution"].due_at == at(11)

    def test_resolve_stops_clocks(self) -> None:
        """A final status stops the resolution clock and records the resolution time."""
        replay = Replay()
        replay.see(0, status="in_progress")

        state = replay.see(3, status="resolved")

        assert state.clocks["resolution"].stopped_at == at(3)
        assert state.activity.resolved_at == at(3)

    def test_reopen_counts_and_resumes(self) -> None:
        """A reopened ticket counts a reopen and its resolution clock counts on."""
        replay = Replay()
        replay.see(0, status="in_progress")
        replay.see(3, status="resolved")

        state = replay.see(10, status="in_progress")

        assert state.activity.reopen_count == 1
        assert state.activity.resolved_at is None
        assert state.clocks["resolution"].running_since == at(10)
        assert state.clocks["resolution"].due_at == at(15)
        assert state.clocks["response"].stopped_at == at(0)

    def test_reopen_into_pending(self) -> None:
        """A ticket reopened straight into pending keeps its clock paused."""
        replay = Replay()
        replay.see(0, status="in_progress")
        replay.see(3, status="resolved")

        state = replay.see(10, status="pending")

        assert state.clocks["resolution"].stopped_at is None
        assert state.clocks["resolution"].running_since is None

    def test_reassignment_counted(self) -> None:
        """Each change of a set assignment group counts; the first assignment does not."""
        replay = Replay()
        replay.see(0)
        replay.see(1, assignment_group="Desk")
        replay.see(2, assignment_group="Network")

        state = replay.see(3, assignment_group="Desk")

        assert state.activity.reassignment_count == 2

    def test_priority_raise_retargets(self) -> None:
        """A raise to P1 moves the resolution deadline to 2 h after the start."""
        replay = Replay()
        replay.see(0, status="in_progress")

        state = replay.see(1, status="in_progress", priority="P1")

        assert state.clocks["resolution"].target_seconds == 7200
        assert state.clocks["resolution"].due_at == at(2)

    def test_missed_deadline_recorded(self) -> None:
        """A deadline passed between observations is recorded as a breach."""
        replay = Replay()
        replay.see(0, status="in_progress")

        state = replay.see(9, status="in_progress")

        assert state.clocks["resolution"].breached_at == at(8)


class TestObservedAt:
    def test_uses_ticket_update_time(self) -> None:
        """The observation time is the ticket's own update time."""
        seen = ticket(updated=at(2))

        assert observed_at(seen, None, at(3)) == at(2)

    def test_never_goes_back(self) -> None:
        """An update time before the previous observation is moved up to it."""
        previous = Replay().see(5).activity

        assert observed_at(ticket(updated=at(2)), previous, at(6)) == at(5)

    def test_never_in_future(self) -> None:
        """An update time after `now` (a skewed source clock) is cut to `now`."""
        assert observed_at(ticket(updated=at(9)), None, at(3)) == at(3)
