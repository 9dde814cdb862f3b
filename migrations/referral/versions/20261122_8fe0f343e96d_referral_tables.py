"""Referral tables: referral, one row per reason (with rank) and per business identifier.

Revision ID: 8fe0f343e96d
Revises:
Create Date: 2026-11-22 14:19:20
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8fe0f343e96d"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "referral",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("intent", sa.String(20), nullable=False),
        sa.Column("nhs_number", sa.String(10), nullable=False),
        sa.Column("requester_ods", sa.String(10), nullable=False),
        sa.Column("received_by_role", sa.String(64), nullable=False),
        sa.Column("source_of_referral_system", sa.String(255), nullable=False),
        sa.Column("source_of_referral_code", sa.String(64), nullable=False),
        sa.Column("authored_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resource", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral")),
    )
    op.create_index(op.f("ix_referral_authored_at"), "referral", ["authored_at"])
    op.create_index(op.f("ix_referral_last_updated_at"), "referral", ["last_updated_at"])
    op.create_index(op.f("ix_referral_nhs_number"), "referral", ["nhs_number"])
    op.create_index(op.f("ix_referral_requester_ods"), "referral", ["requester_ods"])
    op.create_index(
        "ix_referral_received_by_role_authored_at", "referral", ["received_by_role", "authored_at"]
    )
    op.create_index("ix_referral_status_authored_at", "referral", ["status", "authored_at"])

    op.create_table(
        "referral_identifier",
        sa.Column("identifier_system", sa.String(255), nullable=False),
        sa.Column("identifier_value", sa.String(255), nullable=False),
        sa.Column("referral_id", sa.String(36), nullable=False),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referral.id"],
            name=op.f("fk_referral_identifier_referral_id_referral"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "identifier_system", "identifier_value", name=op.f("pk_referral_identifier")
        ),
    )
    op.create_index(
        op.f("ix_referral_identifier_referral_id"), "referral_identifier", ["referral_id"]
    )

    op.create_table(
        "referral_reason",
        sa.Column("referral_id", sa.String(36), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("reason_system", sa.String(255), nullable=False),
        sa.Column("reason_code", sa.String(64), nullable=False),
        sa.Column("reason_text", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referral.id"],
            name=op.f("fk_referral_reason_referral_id_referral"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("referral_id", "rank", name=op.f("pk_referral_reason")),
    )
    op.create_index(
        "ix_referral_reason_code_system",
        "referral_reason",
        ["reason_code", "reason_system", "referral_id"],
    )


def downgrade() -> None:
    op.drop_table("referral_reason")
    op.drop_table("referral_identifier")
    op.drop_table("referral")
