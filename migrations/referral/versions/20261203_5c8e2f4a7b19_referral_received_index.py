"""An index of referrals by when Signpost received them, for the data-quality report.

The report counts the referrals received per source system, sender and month (of created_at).
The index holds every column it reads from `referral`, so PostgreSQL answers from the index
alone instead of scanning the table, which keeps each ServiceRequest as served.

Revision ID: 5c8e2f4a7b19
Revises: 3b6f1d2a9c07
Create Date: 2026-12-03 14:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "5c8e2f4a7b19"
down_revision: str | None = "3b6f1d2a9c07"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_referral_created_at_source_system",
        "referral",
        ["created_at", "source_system", "requester_ods", "id"],
    )


def downgrade() -> None:
    op.drop_index("ix_referral_created_at_source_system", table_name="referral")
