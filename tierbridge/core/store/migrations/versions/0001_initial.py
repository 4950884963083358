"""Create the state store tables.

Revision ID: 0001
Revises:
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Plain types here, not the models' TypeDecorator: `UtcDateTime` produces the same DDL, and a
# migration must keep creating the same schema when the application code changes later.
_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    _create_links()
    _create_snapshots_and_comments()
    _create_cursors()
    _create_inbox()
    _create_outbox()
    _create_sync_log()


def downgrade() -> None:
    for table in ("sync_log", "outbox", "inbox", "cursors", "comment_map", "snapshots", "refs"):
        op.drop_table(table)
    op.drop_table("links")


def _create_links() -> None:
    op.create_table(
        "links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_links")),
    )
    op.create_table(
        "refs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("connector", sa.String(length=100), nullable=False),
        sa.Column("ticket_id", sa.String(length=255), nullable=False),
        sa.Column("ticket_key", sa.String(length=255), nullable=True),
        sa.Column("tier", sa.String(length=8), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(["link_id"], ["links.id"], name=op.f("fk_refs_link_id_links")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refs")),
        sa.UniqueConstraint("connector", "ticket_id", name=op.f("uq_refs_connector_ticket_id")),
    )
    op.create_index(op.f("ix_refs_link_id"), "refs", ["link_id"])


def _create_snapshots_and_comments() -> None:
    op.create_table(
        "snapshots",
        sa.Column("connector", sa.String(length=100), nullable=False),
        sa.Column("ticket_id", sa.String(length=255), nullable=False),
        sa.Column("version", sa.String(length=255), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("connector", "ticket_id", name=op.f("pk_snapshots")),
    )
    op.create_table(
        "comment_map",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("connector", sa.String(length=100), nullable=False),
        sa.Column("comment_id", sa.String(length=255), nullable=False),
        sa.Column("origin_connector", sa.String(length=100), nullable=False),
        sa.Column("origin_comment_id", sa.String(length=255), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comment_map")),
        sa.UniqueConstraint(
            "connector", "comment_id", name=op.f("uq_comment_map_connector_comment_id")
        ),
    )
    op.create_index(op.f("ix_comment_map_link_id"), "comment_map", ["link_id"])
    op.create_index(
        "ix_comment_map_origin", "comment_map", ["origin_connector", "origin_comment_id"]
    )


def _create_cursors() -> None:
    op.create_table(
        "cursors",
        sa.Column("connector", sa.String(length=100), nullable=False),
        sa.Column("watermark", _TIME, nullable=False),
        sa.Column("seen", sa.JSON(), nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("connector", name=op.f("pk_cursors")),
    )


def _create_inbox() -> None:
    statuses = "'pending', 'processing', 'done', 'failed', 'dead'"
    op.create_table(
        "inbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("connector", sa.String(length=100), nullable=False),
        sa.Column("delivery_id", sa.String(length=255), nullable=False),
        sa.Column("ticket_id", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=100), nullable=False),
        sa.Column("version", sa.String(length=255), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("received_at", _TIME, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("available_at", _TIME, nullable=False),
        sa.Column("lease_until", _TIME, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("finished_at", _TIME, nullable=True),
        sa.CheckConstraint(f"status IN ({statuses})", name=op.f("ck_inbox_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox")),
        sa.UniqueConstraint(
            "connector", "delivery_id", name=op.f("uq_inbox_connector_delivery_id")
        ),
    )
    op.create_index("ix_inbox_status_available_at", "inbox", ["status", "available_at"])
    op.create_index("ix_inbox_ticket", "inbox", ["connector", "ticket_id", "id"])


def _create_outbox() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("target_connector", sa.String(length=100), nullable=False),
        sa.Column("operation", sa.String(length=16), nullable=False),
        sa.Column("correlation_id", sa.String(length=512), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("result_id", sa.String(length=255), nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("done_at", _TIME, nullable=True),
        sa.CheckConstraint("status IN ('pending', 'done')", name=op.f("ck_outbox_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("correlation_id", name=op.f("uq_outbox_correlation_id")),
    )
    op.create_index(op.f("ix_outbox_link_id"), "outbox", ["link_id"])


def _create_sync_log() -> None:
    op.create_table(
        "sync_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", _TIME, nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("link_id", sa.Integer(), nullable=True),
        sa.Column("connector", sa.String(length=100), nullable=False),
        sa.Column("ticket_id", sa.String(length=255), nullable=False),
        sa.Column("ticket_key", sa.String(length=255), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target_connector", sa.String(length=100), nullable=True),
        sa.Column("target_ticket", sa.String(length=255), nullable=True),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("duration_ms", sa.Double(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_log")),
    )
    op.create_index(op.f("ix_sync_log_at"), "sync_log", ["at"])
    op.create_index(op.f("ix_sync_log_link_id"), "sync_log", ["link_id"])
    op.create_index("ix_sync_log_ticket", "sync_log", ["connector", "ticket_id"])
