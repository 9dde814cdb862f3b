"""ServiceRequest.priority as a column, for `priority=urgent` searches.

Referrals already held get the priority their stored ServiceRequest gives (most give none).

Revision ID: 6e206bee8571
Revises: 76327e31c00f
Create Date: 2026-12-03 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "6e206bee8571"
down_revision: str | None = "76327e31c00f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN: a batch (table copy) on SQLite would drop the report triggers.
    op.add_column("referral", sa.Column("priority", sa.String(8), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "UPDATE referral SET priority = (resource::jsonb ->> 'priority') "
            "WHERE resource::jsonb ? 'priority'"
        )
    else:
        op.execute(
            "UPDATE referral SET priority = json_extract(resource, '$.priority') "
            "WHERE json_extract(resource, '$.priority') IS NOT NULL"
        )


def downgrade() -> None:
    op.drop_column("referral", "priority")  # plain DROP COLUMN keeps the triggers
