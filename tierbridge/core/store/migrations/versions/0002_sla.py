"""Add SLA clocks, ticket activity, tier moves, rule states and timers.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIME = sa.DateTime(timezone=True)


def _key() -> list[sa.Column[str]]:
    """Return new columns of a ticket's key; a column object can join only one table."""
    return [
        sa.Column("connector", sa.String(length=100), nullable=False),
        sa.Column("ticket_id", sa.String(length=255), nullable=False),
    ]


def upgrade() -> None:
    _create_activity()
    _create_clocks()
    _create_moves()
    _create_rule_states()
    _create_timers()


def downgrade() -> None:
    for table in ("sla_timers", "rule_states", "tier_moves", "sla_clocks", "ticket_activity"):
        op.drop_table(table)


def _create_activity() -> None:
    op.create_table(
        "ticket_activity",
        *_key(),
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("tier", sa.String(length=8), nullable=False),
        sa.Column("opened_at", _TIME, nullable=False),
        sa.Column("observed_at", _TIME, nullable=False),
        sa.Column("status", sa.String(length=32), nullable=True),
        sa.Column("priority", sa.String(length=8), nullable=True),
        sa.Column("assignment_group", sa.String(length=255), nullable=True),
        sa.Column("acknowledged_at", _TIME, nullable=True),
        sa.Column("resolved_at", _TIME, nullable=True),
        sa.Column("reopen_count", sa.Integer(), nullable=False),
        sa.Column("reassignment_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("connector", "ticket_id", name=op.f("pk_ticket_activity")),
    )
    op.create_index(op.f("ix_ticket_activity_link_id"), "ticket_activity", ["link_id"])


def _create_clocks() -> None:
    op.create_table(
        "sla_clocks",
        *_key(),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("tier", sa.String(length=8), nullable=False),
        sa.Column("priority", sa.String(length=8), nullable=True),
        sa.Column("calendar", sa.String(length=100), nullable=False),
        sa.Column("target_seconds", sa.Double(), nullable=True),
        sa.Column("started_at", _TIME, nullable=False),
        sa.Column("elapsed_seconds", sa.Double(), nullable=False),
        sa.Column("running_since", _TIME, nullable=True),
        sa.Column("stopped_at", _TIME, nullable=True),
        sa.Column("due_at", _TIME, nullable=True),
        sa.Column("breached_at", _TIME, nullable=True),
        sa.PrimaryKeyConstraint("connector", "ticket_id", "kind", name=op.f("pk_sla_clocks")),
    )
    op.create_index(op.f("ix_sla_clocks_link_id"), "sla_clocks", ["link_id"])


def _create_moves() -> None:
    op.create_table(
        "tier_moves",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("at", _TIME, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("from_tier", sa.String(length=8), nullable=False),
        sa.Column("to_tier", sa.String(length=8), nullable=False),
        sa.Column("rule", sa.String(length=100), nullable=True),
        *_key(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tier_moves")),
    )
    op.create_index(op.f("ix_tier_moves_link_id"), "tier_moves", ["link_id"])


def _create_rule_states() -> None:
    op.create_table(
        "rule_states",
        *_key(),
        sa.Column("rule", sa.String(length=100), nullable=False),
        sa.Column("matched", sa.Boolean(), nullable=False),
        sa.Column("fired_count", sa.Integer(), nullable=False),
        sa.Column("last_fired_at", _TIME, nullable=True),
        sa.PrimaryKeyConstraint("connector", "ticket_id", "rule", name=op.f("pk_rule_states")),
    )


def _create_timers() -> None:
    op.create_table(
        "sla_timers",
        sa.Column("id", sa.Integer(), nullable=False),
        *_key(),
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("due_at", _TIME, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("fired_at", _TIME, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'fired', 'canceled')", name=op.f("ck_sla_timers_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_timers")),
        sa.UniqueConstraint(
            "connector", "ticket_id", "name", name=op.f("uq_sla_timers_connector_ticket_id_name")
        ),
    )
    op.create_index("ix_sla_timers_status_due_at", "sla_timers", ["status", "due_at"])
