"""The support facts carry their referral's lifecycle status.

The outcomes report grouped by support group joined every referral to its support groups (a
hash join of a million referrals to a million support rows, about 0.8 s at a million
referrals). `report_support.status` is the referral's status, so the referrals of each support
group are counted on the support facts and those offered no support on the referral facts,
with no join. It is set here from the referral facts already derived, so the facts stay
current and nothing is queued; the refresh copies it from now on.

Revision ID: 8e2f4a6c1b37
Revises: 3b7c0e5d9a21
Create Date: 2026-12-21 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8e2f4a6c1b37"
down_revision: str | None = "3b7c0e5d9a21"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("report_support", sa.Column("status", sa.SmallInteger(), nullable=True))
    op.execute(
        "UPDATE report_support SET status = (SELECT status FROM report_referral "
        "WHERE report_referral.referral_key = report_support.referral_key)"
    )


def downgrade() -> None:
    with op.batch_alter_table("report_support") as batch:
        batch.drop_column("status")
