"""Report reason facts carry the referral's pseudonym and waits.

Referrals and waiting times grouped by reason are then one scan of `report_reason`, not a
join of two million reasons to a million referrals. Every referral is queued so the first
report (or `python -m referral_api.reports.facts rebuild`) fills the new columns.

Revision ID: c8a1d4f2e6b7
Revises: e4b8c2a61f07
Create Date: 2026-11-22 16:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c8a1d4f2e6b7"
down_revision: str | None = "e4b8c2a61f07"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("report_reason") as batch:
        batch.add_column(sa.Column("person_key", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("first_contact_days", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("closure_days", sa.Integer(), nullable=True))
    op.execute("INSERT INTO report_change (referral_id) SELECT id FROM referral")


def downgrade() -> None:
    with op.batch_alter_table("report_reason") as batch:
        batch.drop_column("closure_days")
        batch.drop_column("first_contact_days")
        batch.drop_column("person_key")
