"""Messages back to the GP and referrer: the `gp_message` outbox, one row per acceptance,
decline or closure of a referral, written in the transaction of the change and delivered by
referral-api's worker to the referrer's endpoint.

Referrals accepted, declined or closed before this revision have no message.

Revision ID: f1551843b6e4
Revises: c4e7a2b9d318
Create Date: 2026-12-12 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f1551843b6e4"
down_revision: str | None = "c4e7a2b9d318"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "gp_message",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("referral_id", sa.String(length=36), nullable=False),
        sa.Column("event", sa.String(length=16), nullable=False),
        sa.Column("event_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("requester_ods", sa.String(length=10), nullable=False),
        sa.Column("receiver_ods", sa.String(length=10), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("endpoint", sa.String(length=500), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referral.id"],
            name=op.f("fk_gp_message_referral_id_referral"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gp_message")),
    )
    with op.batch_alter_table("gp_message", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_gp_message_referral_id"), ["referral_id"])
        batch_op.create_index("ix_gp_message_requester_ods_state", ["requester_ods", "state"])
        batch_op.create_index("ix_gp_message_state_next_attempt_at", ["state", "next_attempt_at"])


def downgrade() -> None:
    with op.batch_alter_table("gp_message", schema=None) as batch_op:
        batch_op.drop_index("ix_gp_message_state_next_attempt_at")
        batch_op.drop_index("ix_gp_message_requester_ods_state")
        batch_op.drop_index(batch_op.f("ix_gp_message_referral_id"))
    op.drop_table("gp_message")
