"""Tables of SLA clocks, ticket activity, tier moves, rule states and timers.

Revision 0002 creates them. They sit next to the tables of `tables.py`, in the same
metadata, and refer to tickets by `(connector, ticket_id)` as the `snapshots` table does.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tierbridge.core.store.tables import Base, utcnow

__all__ = ["RuleState", "SlaClock", "SlaTimer", "TicketActivity", "TierMove"]

TIMER_STATUSES = ("pending", "fired", "canceled")


class TicketActivity(Base):
    """One ticket as the SLA tracker saw it last: milestones, counters and last values."""

    __tablename__ = "ticket_activity"

    connector: Mapped[str] = mapped_column(String(100), primary_key=True)
    ticket_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    link_id: Mapped[int] = mapped_column(index=True)
    tier: Mapped[str] = mapped_column(String(8))
    opened_at: Mapped[datetime]
    observed_at: Mapped[datetime]
    status: Mapped[str | None] = mapped_column(String(32))
    priority: Mapped[str | None] = mapped_column(String(8))
    assignment_group: Mapped[str | None] = mapped_column(String(255))
    acknowledged_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    reopen_count: Mapped[int] = mapped_column(default=0)
    reassignment_count: Mapped[int] = mapped_column(default=0)


class SlaClock(Base):
    """One response or resolution clock of one ticket."""

    __tablename__ = "sla_clocks"

    connector: Mapped[str] = mapped_column(String(100), primary_key=True)
    ticket_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    link_id: Mapped[int] = mapped_column(index=True)
    tier: Mapped[str] = mapped_column(String(8))
    priority: Mapped[str | None] = mapped_column(String(8))
    calendar: Mapped[str] = mapped_column(String(100))
    target_seconds: Mapped[float | None]
    started_at: Mapped[datetime]
    elapsed_seconds: Mapped[float] = mapped_column(default=0.0)
    running_since: Mapped[datetime | None]
    stopped_at: Mapped[datetime | None]
    due_at: Mapped[datetime | None]
    breached_at: Mapped[datetime | None]


class TierMove(Base):
    """A ticket moving between tiers: escalated up or returned down, and the rule that did it."""

    __tablename__ = "tier_moves"

    id: Mapped[int] = mapped_column(primary_key=True)
    link_id: Mapped[int] = mapped_column(index=True)
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(16))
    from_tier: Mapped[str] = mapped_column(String(8))
    to_tier: Mapped[str] = mapped_column(String(8))
    rule: Mapped[str | None] = mapped_column(String(100))
    connector: Mapped[str] = mapped_column(String(100))
    ticket_id: Mapped[str] = mapped_column(String(255))


class RuleState(Base):
    """Whether a rule's conditions held at a ticket's last evaluation, and how often it fired."""

    __tablename__ = "rule_states"

    connector: Mapped[str] = mapped_column(String(100), primary_key=True)
    ticket_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    rule: Mapped[str] = mapped_column(String(100), primary_key=True)
    matched: Mapped[bool]
    fired_count: Mapped[int] = mapped_column(default=0)
    last_fired_at: Mapped[datetime | None]


class SlaTimer(Base):
    """A moment at which a ticket's rules must be evaluated again: an SLA threshold or an age."""

    __tablename__ = "sla_timers"
    __table_args__ = (
        UniqueConstraint("connector", "ticket_id", "name"),
        Index("ix_sla_timers_status_due_at", "status", "due_at"),
        CheckConstraint(
            "status IN (" + ", ".join(f"'{s}'" for s in TIMER_STATUSES) + ")", name="status"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    connector: Mapped[str] = mapped_column(String(100))
    ticket_id: Mapped[str] = mapped_column(String(255))
    link_id: Mapped[int]
    name: Mapped[str] = mapped_column(String(100))
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="pending")
    fired_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
