"""Reports: IMD deciles by LSOA, list sizes by age and sex, and person pseudonyms.

`lsoa_imd` and `list_size` are lookups loaded with `python -m referral_api.reports.load`;
`report_person` holds the keyed pseudonym reports count people by, and
`report_pseudonym_state` the fingerprint of the key that made them (docs/reports.md).

Revision ID: 5e7a0c3b9d21
Revises: dfc12d7dd6ee
Create Date: 2026-11-22 14:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5e7a0c3b9d21"
down_revision: str | None = "dfc12d7dd6ee"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "lsoa_imd",
        sa.Column("lsoa_code", sa.String(length=9), nullable=False),
        sa.Column("imd_decile", sa.SmallInteger(), nullable=False),
        sa.Column("imd_rank", sa.Integer(), nullable=True),
        sa.Column("lsoa_vintage", sa.String(length=4), nullable=False),
        sa.PrimaryKeyConstraint("lsoa_code", name=op.f("pk_lsoa_imd")),
    )
    op.create_table(
        "list_size",
        sa.Column("area_type", sa.String(length=8), nullable=False),
        sa.Column("area_code", sa.String(length=10), nullable=False),
        sa.Column("age_band", sa.String(length=8), nullable=False),
        sa.Column("sex", sa.String(length=8), nullable=False),
        sa.Column("population", sa.Integer(), nullable=False),
        sa.Column("pcn_ods", sa.String(length=10), nullable=True),
        sa.Column("extract_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint(
            "area_type", "area_code", "age_band", "sex", name=op.f("pk_list_size")
        ),
    )
    op.create_table(
        "report_person",
        sa.Column("referral_id", sa.String(length=36), nullable=False),
        sa.Column("person_key", sa.BigInteger(), nullable=False),
        sa.Column("referral_version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referral.id"],
            name=op.f("fk_report_person_referral_id_referral"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("referral_id", name=op.f("pk_report_person")),
    )
    op.create_table(
        "report_pseudonym_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("key_fingerprint", sa.String(length=16), nullable=False),
        sa.Column("keyed_through", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_pseudonym_state")),
    )


def downgrade() -> None:
    op.drop_table("report_pseudonym_state")
    op.drop_table("report_person")
    op.drop_table("list_size")
    op.drop_table("lsoa_imd")
