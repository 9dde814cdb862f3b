"""A loaded SNOMED CT release: active concepts, is-a links and the groups they imply.

`make load-snomed DIR=...` fills them; until then they are empty and SNOMED CT codes outside
the shipped code lists are grouped `unmapped`. New tables only (plain CREATE TABLE), so the
report triggers on the referral tables are untouched.

Revision ID: 2085cac79a2a
Revises: 5c8e2f4a7b19
Create Date: 2026-12-03 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "2085cac79a2a"
down_revision: str | None = "5c8e2f4a7b19"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "snomed_concept",
        sa.Column("concept_id", sa.String(18), nullable=False),
        sa.Column("term", sa.String(255), nullable=True),
        sa.PrimaryKeyConstraint("concept_id", name=op.f("pk_snomed_concept")),
    )
    op.create_table(
        "snomed_is_a",
        sa.Column("child_id", sa.String(18), nullable=False),
        sa.Column("parent_id", sa.String(18), nullable=False),
        sa.PrimaryKeyConstraint("child_id", "parent_id", name=op.f("pk_snomed_is_a")),
    )
    op.create_index("ix_snomed_is_a_parent_id", "snomed_is_a", ["parent_id"])
    op.create_table(
        "snomed_concept_group",
        sa.Column("concept_id", sa.String(18), nullable=False),
        sa.Column("code_list", sa.String(32), nullable=False),
        sa.Column("concept_group", sa.String(32), nullable=False),
        sa.Column("via_concept_id", sa.String(18), nullable=False),
        sa.Column("distance", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("concept_id", "code_list", name=op.f("pk_snomed_concept_group")),
    )


def downgrade() -> None:
    op.drop_table("snomed_concept_group")
    op.drop_index("ix_snomed_is_a_parent_id", table_name="snomed_is_a")
    op.drop_table("snomed_is_a")
    op.drop_table("snomed_concept")
