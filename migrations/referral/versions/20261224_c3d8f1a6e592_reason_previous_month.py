"""The reason facts carry their referral's previous month (of any group).

The `referrals` report by reason group counted its groups on the reason facts and its total on
the referral facts: two scans. With the referral's `previous_month` copied onto its reason facts
(as its pseudonym is), the total's people come from each referral's `referral_first` row in the
same scan as the groups (docs/reports.md, people counted by their previous month). Set here from
the referral facts already derived, so nothing is queued; the refresh copies it from now on.

Revision ID: c3d8f1a6e592
Revises: a47c2e9d5b18
Create Date: 2026-12-24 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c3d8f1a6e592"
down_revision: str | None = "a47c2e9d5b18"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("report_reason") as batch:
        batch.add_column(sa.Column("previous_month", sa.SmallInteger(), nullable=True))
    op.execute(
        "UPDATE report_reason SET previous_month = report_referral.previous_month "
        "FROM report_referral WHERE report_referral.referral_key = report_reason.referral_key "
        "AND report_referral.previous_month IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("report_reason") as batch:
        batch.drop_column("previous_month")
