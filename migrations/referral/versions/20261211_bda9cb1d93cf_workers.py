"""Workers: the staff who take part in contacts (`contact_worker`, from Encounter.participant) and
who hold referrals (`referral_task.owner_system` / `owner_value`, from Task.owner), by the
sender's staff identifier; no names are kept.

Contacts and Tasks stored before this revision name no worker until their sender sends them again.

Revision ID: bda9cb1d93cf
Revises: 3b7f1d9e2c40
Create Date: 2026-12-11 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "bda9cb1d93cf"
down_revision: str | None = "3b7f1d9e2c40"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMNs: a batch (table copy) on SQLite would drop the report triggers of
    # referral_task.
    op.add_column("referral_task", sa.Column("owner_system", sa.String(255), nullable=True))
    op.add_column("referral_task", sa.Column("owner_value", sa.String(255), nullable=True))
    op.create_index(
        "ix_referral_task_owner", "referral_task", ["owner_value", "owner_system"], unique=False
    )
    op.create_table(
        "contact_worker",
        sa.Column("contact_id", sa.String(36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.String(36), nullable=False),
        sa.Column("worker_system", sa.String(255), nullable=False),
        sa.Column("worker_value", sa.String(255), nullable=False),
        sa.Column("role", sa.String(64), nullable=True),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contact.id"],
            name=op.f("fk_contact_worker_contact_id_contact"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referral.id"],
            name=op.f("fk_contact_worker_referral_id_referral"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("contact_id", "position", name=op.f("pk_contact_worker")),
    )
    op.create_index(
        op.f("ix_contact_worker_referral_id"), "contact_worker", ["referral_id"], unique=False
    )
    op.create_index(
        "ix_contact_worker_worker",
        "contact_worker",
        ["worker_value", "worker_system"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_contact_worker_worker", table_name="contact_worker")
    op.drop_index(op.f("ix_contact_worker_referral_id"), table_name="contact_worker")
    op.drop_table("contact_worker")
    op.drop_index("ix_referral_task_owner", table_name="referral_task")
    # One column at a time outside a batch, so SQLite keeps referral_task's report triggers
    # (SQLite 3.35+ drops a column in place).
    op.drop_column("referral_task", "owner_value")
    op.drop_column("referral_task", "owner_system")
