"""The reason facts mark one row per referral, so the reasons report counts referrals there.

The reasons report counted each group's referrals (the share's denominator) and the total on
the referral facts: a second scan, about a third of its time at a million referrals.
`report_reason.referral_first` is 1 on one row per referral, among its `group_first` rows, so
the scan that counts the reasons counts the referrals once each too. It is set here on one
`group_first` row of each referral already derived (its lowest reason code), so the facts stay
current and nothing is queued; the refresh marks the referral's first reason from now on.

Revision ID: 924014806f91
Revises: 65e306de8314
Create Date: 2026-12-19 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "924014806f91"
down_revision: str | None = "65e306de8314"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "report_reason",
        sa.Column("referral_first", sa.SmallInteger(), nullable=False, server_default=sa.text("0")),
    )
    op.execute(
        "UPDATE report_reason SET referral_first = 1 WHERE (referral_key, reason) IN "
        "(SELECT referral_key, min(reason) FROM report_reason WHERE group_first = 1 "
        "GROUP BY referral_key)"
    )


def downgrade() -> None:
    with op.batch_alter_table("report_reason") as batch:
        batch.drop_column("referral_first")
