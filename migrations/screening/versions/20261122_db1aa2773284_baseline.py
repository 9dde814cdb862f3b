"""Baseline: the empty database the service's first tables will be added to.

Revision ID: db1aa2773284
Revises:
Create Date: 2026-11-22 14:19:19.342542
"""

from collections.abc import Sequence

revision: str = "db1aa2773284"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
