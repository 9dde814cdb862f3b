"""Bulk export and consent: `$export` jobs with their NDJSON parts (`export_job`,
`export_part`), and Consent for information sharing (`consent`) with each person's current
decision (`person_consent`), which linkage shown to other organisations and exports honour.

Revision ID: 5c2e8a7d4f19
Revises: f1551843b6e4
Create Date: 2026-12-12 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5c2e8a7d4f19"
down_revision: str | None = "f1551843b6e4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "export_job",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("request", sa.Text(), nullable=False),
        sa.Column("group_id", sa.String(80), nullable=True),
        sa.Column("resource_types", sa.String(255), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pseudonymised", sa.Boolean(), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("organisation", sa.String(10), nullable=True),
        sa.Column("transaction_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("total_resources", sa.Integer(), nullable=True),
        sa.Column("written_resources", sa.Integer(), nullable=False),
        sa.Column("withdrawn_referrals", sa.Integer(), nullable=False),
        sa.Column("withdrawn_people", sa.Integer(), nullable=False),
        sa.Column("cursor_type", sa.String(32), nullable=True),
        sa.Column("cursor_id", sa.String(36), nullable=True),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_export_job")),
    )
    op.create_index(op.f("ix_export_job_status"), "export_job", ["status"], unique=False)
    op.create_table(
        "export_part",
        sa.Column("job_id", sa.String(36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("resource_type", sa.String(32), nullable=False),
        sa.Column("line_count", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["export_job.id"],
            name=op.f("fk_export_part_job_id_export_job"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("job_id", "position", name=op.f("pk_export_part")),
    )
    op.create_table(
        "consent",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("identifier_system", sa.String(255), nullable=True),
        sa.Column("identifier_value", sa.String(255), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("person_key", sa.String(64), nullable=False),
        sa.Column("referral_id", sa.String(36), nullable=True),
        sa.Column("provision_type", sa.String(8), nullable=False),
        sa.Column("provision_start_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("provision_end_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_ods", sa.String(10), nullable=False),
        sa.Column("withdrawn", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resource", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referral.id"],
            name=op.f("fk_consent_referral_id_referral"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent")),
        sa.UniqueConstraint(
            "identifier_system",
            "identifier_value",
            name=op.f("uq_consent_identifier_system_identifier_value"),
        ),
    )
    op.create_index(op.f("ix_consent_person_key"), "consent", ["person_key"], unique=False)
    op.create_index(op.f("ix_consent_referral_id"), "consent", ["referral_id"], unique=False)
    op.create_index(
        op.f("ix_consent_organization_ods"), "consent", ["organization_ods"], unique=False
    )
    op.create_index(
        op.f("ix_consent_last_updated_at"), "consent", ["last_updated_at"], unique=False
    )
    op.create_index(
        "ix_consent_person_key_decided_at", "consent", ["person_key", "decided_at"], unique=False
    )
    op.create_table(
        "person_consent",
        sa.Column("person_key", sa.String(64), nullable=False),
        sa.Column("withdrawn", sa.Boolean(), nullable=False),
        sa.Column("consent_id", sa.String(36), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["consent_id"],
            ["consent.id"],
            name=op.f("fk_person_consent_consent_id_consent"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("person_key", name=op.f("pk_person_consent")),
    )
    op.create_index(
        op.f("ix_person_consent_withdrawn"), "person_consent", ["withdrawn"], unique=False
    )


def downgrade() -> None:
    op.drop_table("person_consent")
    op.drop_table("consent")
    op.drop_table("export_part")
    op.drop_table("export_job")
