"""`group_first` on the support facts: 1 on one row per (referral, support group).

A referral offered two types of support in the same group counts once in that group: with
the flag, a count per support group is a sum over the support facts, with no DISTINCT over a
million rows (as `report_reason.group_first` does for reason groups). The flag is set here
on the facts already derived (the lowest support code of each group, as the refresh does).

Revision ID: a7d3c9e1f2b4
Revises: 5c2e8a7d4f19
Create Date: 2026-12-13 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a7d3c9e1f2b4"
down_revision: str | None = "5c2e8a7d4f19"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "report_support",
        sa.Column("group_first", sa.SmallInteger(), nullable=False, server_default="0"),
    )
    op.execute(
        "UPDATE report_support SET group_first = 1 WHERE NOT EXISTS ("
        "SELECT 1 FROM report_support AS other "
        "WHERE other.referral_key = report_support.referral_key "
        "AND other.support_group = report_support.support_group "
        "AND other.support < report_support.support)"
    )


def downgrade() -> None:
    with op.batch_alter_table("report_support") as batch:
        batch.drop_column("group_first")
