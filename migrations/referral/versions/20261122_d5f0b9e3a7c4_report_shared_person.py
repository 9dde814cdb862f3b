"""Report facts flag referrals whose person has other referrals.

People are counted as the referrals of people referred once plus the distinct pseudonyms of
the others (about one referral in six), so the distinct count sorts a sixth of the rows. Every
referral is queued so the first report (or `python -m referral_api.reports.facts rebuild`)
fills the flag.

Revision ID: d5f0b9e3a7c4
Revises: c8a1d4f2e6b7
Create Date: 2026-11-22 16:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d5f0b9e3a7c4"
down_revision: str | None = "c8a1d4f2e6b7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("report_referral", "report_reason"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column("shared_person", sa.SmallInteger(), nullable=False, server_default="0")
            )
    op.create_index("ix_report_referral_person_key", "report_referral", ["person_key"])
    op.execute("INSERT INTO report_change (referral_id) SELECT id FROM referral")


def downgrade() -> None:
    op.drop_index("ix_report_referral_person_key", table_name="report_referral")
    for table in ("report_reason", "report_referral"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("shared_person")
