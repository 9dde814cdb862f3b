"""The data-quality report counts free text whose control characters were replaced.

Referrals whose free text held control characters (pasted from letters) are kept with those
characters replaced and a `replaced-characters` gap; the data-quality report counted them under
"other data gaps". They get a warning of their own, `replaced_characters`: a 0/1 flag per
referral (`report_quality`) and its counts and key sums per day and month. The referrals that
have such a gap are queued for the refresh, which derives their flags again and counts their
days and months again; until it has, reports do not claim to be current (no
X-Facts-Refreshed-At), as after the revisions that added the facts.

Revision ID: c87278a6aa5b
Revises: 93926a62cc61
Create Date: 2026-12-17 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c87278a6aa5b"
down_revision: str | None = "93926a62cc61"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FLAG = "replaced_characters"
COUNTED = ("report_quality_day", "report_quality_month")


def upgrade() -> None:
    zero = sa.text("0")
    op.add_column(
        "report_quality", sa.Column(FLAG, sa.SmallInteger(), nullable=False, server_default=zero)
    )
    for table in COUNTED:
        op.add_column(table, sa.Column(FLAG, sa.Integer(), nullable=False, server_default=zero))
        op.add_column(
            table,
            sa.Column(f"{FLAG}_cell_key", sa.BigInteger(), nullable=False, server_default=zero),
        )
    replaced = "SELECT DISTINCT referral_id FROM referral_gap WHERE kind = 'replaced-characters'"
    op.execute(f"INSERT INTO report_change (referral_id) {replaced}")
    op.execute(
        "UPDATE report_state SET refreshed_at = NULL "
        "WHERE EXISTS (SELECT 1 FROM referral_gap WHERE kind = 'replaced-characters')"
    )


def downgrade() -> None:
    for table in ("report_quality", *COUNTED):
        with op.batch_alter_table(table) as batch:
            batch.drop_column(FLAG)
            if table != "report_quality":
                batch.drop_column(f"{FLAG}_cell_key")
