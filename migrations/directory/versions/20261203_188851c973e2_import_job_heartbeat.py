"""Import jobs: a heartbeat (updated_at), the reason a job failed, and the run (attempt).

A running job whose heartbeat is older than the stale timeout has stopped and reads as failed;
a failed job can be resumed, which starts its next attempt. Existing jobs take their start time
as their heartbeat.

Revision ID: 188851c973e2
Revises: 61113bc34439
Create Date: 2026-12-03 12:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "188851c973e2"
down_revision: str | None = "61113bc34439"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("import_job", schema=None) as batch_op:
        batch_op.add_column(sa.Column("failure_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("attempt", sa.Integer(), server_default="1", nullable=False))
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE import_job SET updated_at = coalesce(finished_at, started_at)")
    with op.batch_alter_table("import_job", schema=None) as batch_op:
        batch_op.alter_column(
            "updated_at", existing_type=sa.DateTime(timezone=True), nullable=False
        )


def downgrade() -> None:
    with op.batch_alter_table("import_job", schema=None) as batch_op:
        batch_op.drop_column("updated_at")
        batch_op.drop_column("attempt")
        batch_op.drop_column("failure_reason")
