"""Record keys for disclosure control: `record_key` on every report fact, `person_tag` on the
referral and reason facts.

The keys are a keyed hash under REFERRAL_DISCLOSURE_KEY, which a migration cannot know: the
fingerprint stored with the facts now covers that key as well, so reports answer 503 until
`python -m referral_api.reports.facts rekey` has derived every fact again (docs/reports.md).

Revision ID: 5e8a1c3f7b20
Revises: 9d4e2b7c1a56
Create Date: 2026-12-03 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5e8a1c3f7b20"
down_revision: str | None = "9d4e2b7c1a56"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FACT_TABLES = (
    "report_referral",
    "report_reason",
    "report_reason_pair",
    "report_support",
    "report_score",
)
WITH_PEOPLE = ("report_referral", "report_reason")


def upgrade() -> None:
    for table in FACT_TABLES:
        op.add_column(
            table,
            sa.Column("record_key", sa.SmallInteger(), nullable=False, server_default="0"),
        )
    for table in WITH_PEOPLE:
        op.add_column(table, sa.Column("person_tag", sa.Integer(), nullable=True))


def downgrade() -> None:
    for table in WITH_PEOPLE:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("person_tag")
    for table in FACT_TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("record_key")
