"""Add the attachment map: each copied file, its original and its content hash.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "attachment_map",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("connector", sa.String(length=100), nullable=False),
        sa.Column("attachment_id", sa.String(length=255), nullable=False),
        sa.Column("origin_connector", sa.String(length=100), nullable=False),
        sa.Column("origin_attachment_id", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachment_map")),
        sa.UniqueConstraint(
            "connector", "attachment_id", name=op.f("uq_attachment_map_connector_attachment_id")
        ),
    )
    op.create_index("ix_attachment_map_link_hash", "attachment_map", ["link_id", "sha256"])


def downgrade() -> None:
    op.drop_index("ix_attachment_map_link_hash", table_name="attachment_map")
    op.drop_table("attachment_map")
