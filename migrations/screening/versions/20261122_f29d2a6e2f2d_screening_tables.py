"""Screening tables: responses and their answers, Observations, the referral outbox, invitations.

Revision ID: f29d2a6e2f2d
Revises: db1aa2773284
Create Date: 2026-11-22 14:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f29d2a6e2f2d"
down_revision: str | None = "db1aa2773284"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _response_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["response_id"],
        ["questionnaire_response.id"],
        name=op.f(f"fk_{table}_response_id_questionnaire_response"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "questionnaire_response",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("questionnaire_url", sa.String(255), nullable=False),
        sa.Column("questionnaire_version", sa.String(64), nullable=False),
        sa.Column("nhs_number", sa.String(10), nullable=False),
        sa.Column("clinic_ods", sa.String(10), nullable=False),
        sa.Column("pathway", sa.String(64), nullable=True),
        sa.Column("identifier_system", sa.String(255), nullable=True),
        sa.Column("identifier_value", sa.String(255), nullable=True),
        sa.Column("authored_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("screen_positive", sa.Boolean(), nullable=True),
        sa.Column("wants_help", sa.Boolean(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resource", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_questionnaire_response")),
        sa.UniqueConstraint(
            "identifier_system",
            "identifier_value",
            name=op.f("uq_questionnaire_response_identifier_system_identifier_value"),
        ),
    )
    op.create_index(
        op.f("ix_questionnaire_response_nhs_number"), "questionnaire_response", ["nhs_number"]
    )
    op.create_index(
        "ix_questionnaire_response_completed_at_clinic_ods",
        "questionnaire_response",
        ["completed_at", "clinic_ods"],
    )

    op.create_table(
        "response_answer",
        sa.Column("response_id", sa.String(36), nullable=False),
        sa.Column("link_id", sa.String(255), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("answer_system", sa.String(255), nullable=True),
        sa.Column("answer_code", sa.String(64), nullable=True),
        sa.Column("is_flag", sa.Boolean(), nullable=False),
        sa.Column("is_declined", sa.Boolean(), nullable=False),
        sa.Column("domain", sa.String(64), nullable=True),
        _response_fk("response_answer"),
        sa.PrimaryKeyConstraint(
            "response_id", "link_id", "position", name=op.f("pk_response_answer")
        ),
    )

    op.create_table(
        "observation",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("response_id", sa.String(36), nullable=False),
        sa.Column("link_id", sa.String(255), nullable=False),
        sa.Column("nhs_number", sa.String(10), nullable=False),
        sa.Column("code_system", sa.String(255), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("domain_code", sa.String(64), nullable=True),
        sa.Column("is_positive", sa.Boolean(), nullable=False),
        sa.Column("effective_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resource", sa.Text(), nullable=False),
        _response_fk("observation"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_observation")),
    )
    op.create_index(op.f("ix_observation_nhs_number"), "observation", ["nhs_number"])
    op.create_index(op.f("ix_observation_response_id"), "observation", ["response_id"])

    op.create_table(
        "referral_handoff",
        sa.Column("response_id", sa.String(36), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("identifier_system", sa.String(255), nullable=False),
        sa.Column("identifier_value", sa.String(255), nullable=False),
        sa.Column("request", sa.Text(), nullable=False),
        sa.Column("referral_id", sa.String(64), nullable=True),
        sa.Column("referral_status", sa.String(32), nullable=True),
        sa.Column("referral_accepted", sa.Boolean(), nullable=False),
        sa.Column("referral_closed", sa.Boolean(), nullable=False),
        sa.Column("status_checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        _response_fk("referral_handoff"),
        sa.PrimaryKeyConstraint("response_id", name=op.f("pk_referral_handoff")),
    )
    op.create_index(
        "ix_referral_handoff_state_next_attempt_at",
        "referral_handoff",
        ["state", "next_attempt_at"],
    )

    op.create_table(
        "screening_invitation",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("nhs_number", sa.String(10), nullable=False),
        sa.Column("clinic_ods", sa.String(10), nullable=False),
        sa.Column("pathway", sa.String(64), nullable=True),
        sa.Column("questionnaire_url", sa.String(255), nullable=False),
        sa.Column("questionnaire_version", sa.String(64), nullable=False),
        sa.Column("invited_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resource", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_screening_invitation")),
    )
    op.create_index(
        op.f("ix_screening_invitation_nhs_number"), "screening_invitation", ["nhs_number"]
    )
    op.create_index(
        "ix_screening_invitation_invited_at_clinic_ods",
        "screening_invitation",
        ["invited_at", "clinic_ods"],
    )


def downgrade() -> None:
    op.drop_table("screening_invitation")
    op.drop_table("referral_handoff")
    op.drop_table("observation")
    op.drop_table("response_answer")
    op.drop_table("questionnaire_response")
