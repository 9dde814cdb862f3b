"""Parallel referrals are counted once, at the later referral of each concurrent pair.

The facts of every referral with a concurrent link are queued to be derived again; the next
report refresh (or `python -m referral_api.reports.facts refresh`) applies the definition.

Revision ID: 9d4e2b7c1a56
Revises: 6e206bee8571
Create Date: 2026-12-03 12:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "9d4e2b7c1a56"
down_revision: str | None = "6e206bee8571"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "INSERT INTO report_change (referral_id) SELECT DISTINCT referral_id FROM referral_link "
        "WHERE link_type = 'concurrent-other-role'"
    )


def downgrade() -> None:
    op.execute(
        "INSERT INTO report_change (referral_id) SELECT DISTINCT referral_id FROM referral_link "
        "WHERE link_type = 'concurrent-other-role'"
    )
