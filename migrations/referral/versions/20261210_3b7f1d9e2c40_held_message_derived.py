"""Held messages keep what was derived from the message as sent, so the body can be reduced to the
dataset: the data gaps, the Patient's content hash and the geography of its postcode.

Messages held before this revision keep their body as it was until they are released or expire
(`python -m referral_api.messages.expire`).

Revision ID: 3b7f1d9e2c40
Revises: 5e8a1c3f7b20
Create Date: 2026-12-10 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3b7f1d9e2c40"
down_revision: str | None = "5e8a1c3f7b20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN: a batch (table copy) on SQLite would drop the report triggers.
    op.add_column("held_message", sa.Column("derived", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("held_message", "derived")
