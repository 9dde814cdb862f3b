"""The reason facts carry each referral's need and match on its first reason's row.

The support-match report counted its total (each referral with a need once: those offered
support, and those whose support addresses a need) on the referral facts: a second scan, about
a third of its time at a million referrals. `report_reason.first_has_need` and
`first_need_met` are the referral's `has_need` and `need_met` on its `referral_first` row (0 on
its other rows), so the scan that counts the needs counts the total too. They are set here
from the referral facts already derived, so the facts stay current and nothing is queued; the
refresh sets them from now on.

Revision ID: 3b7c0e5d9a21
Revises: 924014806f91
Create Date: 2026-12-20 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3b7c0e5d9a21"
down_revision: str | None = "924014806f91"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for column in ("first_has_need", "first_need_met"):
        op.add_column(
            "report_reason",
            sa.Column(column, sa.SmallInteger(), nullable=False, server_default=sa.text("0")),
        )
    # Only the referrals with a need: need_met implies has_need (only a need can be met).
    op.execute(
        "UPDATE report_reason SET first_has_need = 1, first_need_met = "
        "(SELECT need_met FROM report_referral "
        "WHERE report_referral.referral_key = report_reason.referral_key) "
        "WHERE referral_first = 1 AND referral_key IN "
        "(SELECT referral_key FROM report_referral WHERE has_need = 1)"
    )


def downgrade() -> None:
    with op.batch_alter_table("report_reason") as batch:
        batch.drop_column("first_need_met")
        batch.drop_column("first_has_need")
