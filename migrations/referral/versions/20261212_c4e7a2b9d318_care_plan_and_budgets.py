"""Care and support plans: `care_plan`, one per referral (CarePlan), with the columns its
searches and the overdue-review worklist read (status, created, period, review due and why, the
author by staff identifier). Personal health budgets offered as support: their stage, type and
amount band on `support_offered` (NULL for other support, and for budgets stored before).
Shared decision making conversations (Procedure): `shared_decision`, kept like the other
lifecycle resources (sender id, ordering timestamp and hash, served JSON), with the code, when it
took place and the worker by staff identifier.

Revision ID: c4e7a2b9d318
Revises: 4c2e9a7b1d38
Create Date: 2026-12-12 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c4e7a2b9d318"
down_revision: str | None = "4c2e9a7b1d38"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMNs: a batch (table copy) on SQLite would drop support_offered's report
    # triggers.
    for name, length in (("budget_stage", 16), ("budget_type", 32), ("budget_amount_band", 32)):
        op.add_column("support_offered", sa.Column(name, sa.String(length), nullable=True))
    op.create_table(
        "shared_decision",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("referral_id", sa.String(36), nullable=False),
        sa.Column("source_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("code_system", sa.String(255), nullable=True),
        sa.Column("code", sa.String(64), nullable=True),
        sa.Column("code_group", sa.String(16), nullable=False),
        sa.Column("performed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("worker_system", sa.String(255), nullable=True),
        sa.Column("worker_value", sa.String(255), nullable=True),
        sa.Column("worker_role", sa.String(64), nullable=True),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("last_updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resource", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referral.id"],
            name=op.f("fk_shared_decision_referral_id_referral"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shared_decision")),
        sa.UniqueConstraint(
            "referral_id", "source_id", name=op.f("uq_shared_decision_referral_id_source_id")
        ),
    )
    op.create_index(
        "ix_shared_decision_referral_id_performed_at",
        "shared_decision",
        ["referral_id", "performed_at"],
    )
    op.create_table(
        "care_plan",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("referral_id", sa.String(36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("period_start_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("period_end_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("review_due_on", sa.Date(), nullable=False),
        sa.Column("review_basis", sa.String(16), nullable=False),
        sa.Column("author_system", sa.String(255), nullable=True),
        sa.Column("author_value", sa.String(255), nullable=True),
        sa.Column("author_role", sa.String(64), nullable=True),
        sa.Column("last_updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resource", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referral.id"],
            name=op.f("fk_care_plan_referral_id_referral"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_plan")),
        sa.UniqueConstraint("referral_id", name=op.f("uq_care_plan_referral_id")),
    )
    op.create_index(
        op.f("ix_care_plan_last_updated_at"), "care_plan", ["last_updated_at"], unique=False
    )
    op.create_index("ix_care_plan_review_due", "care_plan", ["review_due_on", "status"])
    op.create_index("ix_care_plan_author", "care_plan", ["author_value", "author_system"])


def downgrade() -> None:
    op.drop_index("ix_care_plan_author", table_name="care_plan")
    op.drop_index("ix_care_plan_review_due", table_name="care_plan")
    op.drop_index(op.f("ix_care_plan_last_updated_at"), table_name="care_plan")
    op.drop_table("care_plan")
    op.drop_index("ix_shared_decision_referral_id_performed_at", table_name="shared_decision")
    op.drop_table("shared_decision")
    # One column at a time outside a batch, so SQLite keeps support_offered's report triggers.
    for name in ("budget_amount_band", "budget_type", "budget_stage"):
        op.drop_column("support_offered", name)
