"""Add the hash of each comment's body as last copied, so that edits are followed.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Rows from before this revision get NULL, and the engine records their hash the next
    # time it lists their ticket's comments, without treating that as an edit.
    with op.batch_alter_table("comment_map") as batch:
        batch.add_column(sa.Column("body_hash", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("comment_map") as batch:
        batch.drop_column("body_hash")
