"""Add partial indexes on the unfinished inbox events, for the claim.

The claim walks unfinished events in id order and checks, for each one, its ticket's other
unfinished events. Finished events are never deleted, so without these indexes both steps
also read the history of done and dead events.

Building the indexes reads the whole inbox table once. On PostgreSQL the upgrade runs in a
transaction, so it cannot use CREATE INDEX CONCURRENTLY, and writes to the inbox wait
until both indexes are built.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The claim's query repeats this condition, so that the planner can use the indexes.
_UNFINISHED = "status IN ('pending', 'processing', 'failed')"


def upgrade() -> None:
    for name, columns in (
        ("ix_inbox_unfinished", ["id"]),
        ("ix_inbox_unfinished_ticket", ["connector", "ticket_id", "id"]),
    ):
        op.create_index(
            name,
            "inbox",
            columns,
            sqlite_where=sa.text(_UNFINISHED),
            postgresql_where=sa.text(_UNFINISHED),
        )


def downgrade() -> None:
    op.drop_index("ix_inbox_unfinished_ticket", table_name="inbox")
    op.drop_index("ix_inbox_unfinished", table_name="inbox")
