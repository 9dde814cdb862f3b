"""The data gaps each referral holds (kept, not refused), for the data-quality report.

Revision ID: 3b6f1d2a9c07
Revises: a7d3e5f1c9b2
Create Date: 2026-12-03 11:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3b6f1d2a9c07"
down_revision: str | None = "a7d3e5f1c9b2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "referral_gap",
        sa.Column("referral_id", sa.String(36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("element", sa.String(255), nullable=False),
        sa.Column("code", sa.String(320), nullable=True),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referral.id"],
            name=op.f("fk_referral_gap_referral_id_referral"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("referral_id", "position", name=op.f("pk_referral_gap")),
    )
    op.create_index("ix_referral_gap_kind_element", "referral_gap", ["kind", "element"])


def downgrade() -> None:
    op.drop_index("ix_referral_gap_kind_element", table_name="referral_gap")
    op.drop_table("referral_gap")
