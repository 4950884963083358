"""Plain values of the SLA tables. Every datetime is timezone-aware UTC."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["ActivityRow", "ClockRow", "RuleStateRow", "TierMoveRow", "TimerRow"]


@dataclass(frozen=True)
class ActivityRow:
    """One ticket as the SLA tracker last saw it, with its milestones and counters.

    `resolved_at` is the latest move to a final status and is cleared by a reopen.
    """

    connector: str
    ticket_id: str
    link_id: int
    tier: str
    opened_at: datetime
    observed_at: datetime
    status: str | None = None
    priority: str | None = None
    assignment_group: str | None = None
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    reopen_count: int = 0
    reassignment_count: int = 0


@dataclass(frozen=True)
class ClockRow:
    """A response or resolution clock.

    `elapsed_seconds` is the business time counted up to `running_since` (while the clock
    runs) or up to the pause or stop. `due_at` is the deadline while it runs, else None.
    A clock with no `target_seconds` still measures time but never breaches.
    """

    connector: str
    ticket_id: str
    kind: str
    link_id: int
    tier: str
    calendar: str
    started_at: datetime
    priority: str | None = None
    target_seconds: float | None = None
    elapsed_seconds: float = 0.0
    running_since: datetime | None = None
    stopped_at: datetime | None = None
    due_at: datetime | None = None
    breached_at: datetime | None = None


@dataclass(frozen=True)
class TierMoveRow:
    """A ticket escalated (`kind` escalate) or handed back down (`kind` return)."""

    id: int
    link_id: int
    at: datetime
    kind: str
    from_tier: str
    to_tier: str
    rule: str | None
    connector: str
    ticket_id: str


@dataclass(frozen=True)
class RuleStateRow:
    """A rule's last verdict on one ticket, and how often it fired there."""

    connector: str
    ticket_id: str
    rule: str
    matched: bool
    fired_count: int
    last_fired_at: datetime | None


@dataclass(frozen=True)
class TimerRow:
    """A moment at which a ticket's rules are evaluated again.

    `name` gives the reason: `response:100` is the response deadline, `resolution:75` three
    quarters of the resolution target, `age:14400` four hours after the ticket opened.
    `status` is pending, fired or canceled.
    """

    id: int
    connector: str
    ticket_id: str
    link_id: int
    name: str
    due_at: datetime
    status: str
    fired_at: datetime | None
    last_error: str | None
