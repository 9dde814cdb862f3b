"""Baseline: the empty database the service's first tables will be added to.

Revision ID: a1f555418f55
Revises:
Create Date: 2026-11-22 14:19:18.792211
"""

from collections.abc import Sequence

revision: str = "a1f555418f55"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
