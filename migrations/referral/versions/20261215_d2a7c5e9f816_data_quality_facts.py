"""Report facts for the data-quality report, kept by the facts refresh.

The report counted every referral received, and grouped every recorded gap, per request: 2.4 s
at a million referrals. Now:
- `report_quality`: one row per referral with the day received (UTC), source system, sender,
  record key and its gap flags;
- `report_quality_day`: per day, source system and sender, the referrals received and those
  flagged, each with its key sum, which the report sums;
- `report_unmapped`: each unmapped code recorded as a gap of a referral, once per element and
  code, with the same day, system, sender and record key;
- writes to `referral_gap`, and updates of a referral's sender or time received, queue the
  referral for the refresh. Every referral is queued here, so the first refresh derives them
  (reports carry no `X-Facts-Refreshed-At` until it has);
- `ix_referral_created_at_source_system`, which the report counted referrals received from, is
  dropped: nothing else reads it, and every referral written paid for it.

Revision ID: d2a7c5e9f816
Revises: b8e4f2a6c913
Create Date: 2026-12-15 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d2a7c5e9f816"
down_revision: str | None = "b8e4f2a6c913"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FLAGS = (
    "with_gap",
    "no_source",
    "unmapped_reason",
    "text_only_reason",
    "no_nhs_number",
    "not_interpreted",
    "personal_data_removed",
    "other_gap",
    "any_unmapped",
)
# The referral columns whose updates queue report facts, before and after this revision.
_WATCHED_BEFORE = (
    "nhs_number",
    "received_by_role",
    "source_of_referral_group",
    "source_system",
    "authored_at",
    "person_key",
)
_WATCHED_AFTER = (*_WATCHED_BEFORE, "requester_ods", "created_at")


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _where_received() -> list[sa.Column]:
    return [
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("source_system", sa.String(16), nullable=False),
        sa.Column("sender", sa.String(10), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "report_quality",
        *(sa.Column(name, sa.SmallInteger(), nullable=False) for name in FLAGS),
        sa.Column("referral_key", sa.Integer(), nullable=False, autoincrement=False),
        *_where_received(),
        sa.Column("record_key", sa.SmallInteger(), nullable=False),
        sa.PrimaryKeyConstraint("referral_key", name=op.f("pk_report_quality")),
    )
    op.create_index(
        "ix_report_quality_received_on",
        "report_quality",
        ["received_on", "source_system", "sender"],
    )
    op.create_table(
        "report_quality_day",
        *(
            column
            for name in FLAGS
            for column in (
                sa.Column(name, sa.Integer(), nullable=False),
                sa.Column(f"{name}_cell_key", sa.BigInteger(), nullable=False),
            )
        ),
        *_where_received(),
        sa.Column("referrals", sa.Integer(), nullable=False),
        sa.Column("referrals_cell_key", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "received_on", "source_system", "sender", name=op.f("pk_report_quality_day")
        ),
    )
    op.create_table(
        "report_unmapped",
        sa.Column("referral_key", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("position", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("element", sa.String(255), nullable=False),
        sa.Column("code", sa.String(320), nullable=True),
        *_where_received(),
        sa.Column("record_key", sa.SmallInteger(), nullable=False),
        sa.PrimaryKeyConstraint("referral_key", "position", name=op.f("pk_report_unmapped")),
    )
    _triggers(_WATCHED_AFTER)
    if not _sqlite():
        op.execute(
            "CREATE TRIGGER report_change AFTER INSERT OR UPDATE OR DELETE ON referral_gap "
            "FOR EACH ROW EXECUTE FUNCTION report_change_of_child()"
        )
    else:
        for event, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
            name = f"report_change_referral_gap_{event.lower()}"
            queue = f"INSERT INTO report_change (referral_id) VALUES ({row}.referral_id)"  # noqa: S608
            op.execute(f"CREATE TRIGGER {name} AFTER {event} ON referral_gap BEGIN {queue}; END")
    op.execute("INSERT INTO report_change (referral_id) SELECT id FROM referral")
    # The new facts are empty until the refresh has derived every queued referral: reports do
    # not claim to be current until then (no X-Facts-Refreshed-At, as before a first build).
    op.execute("UPDATE report_state SET refreshed_at = NULL")
    op.drop_index("ix_referral_created_at_source_system", table_name="referral")


def _triggers(watched: Sequence[str]) -> None:
    """The referral's update trigger, watching `watched` (see 7c41d2e8a9f3)."""
    if not _sqlite():
        op.execute("DROP TRIGGER IF EXISTS report_change ON referral")
        op.execute(
            "CREATE TRIGGER report_change AFTER INSERT OR DELETE OR UPDATE OF "
            f"{', '.join(watched)} ON referral "
            "FOR EACH ROW EXECUTE FUNCTION report_change_of_referral()"
        )
        return
    op.execute("DROP TRIGGER IF EXISTS report_change_referral_update")
    columns = ", ".join(watched)
    queue = "INSERT INTO report_change (referral_id) VALUES (NEW.id)"
    op.execute(
        f"CREATE TRIGGER report_change_referral_update AFTER UPDATE OF {columns} ON referral "
        f"BEGIN {queue}; END"
    )


def downgrade() -> None:
    op.create_index(
        "ix_referral_created_at_source_system",
        "referral",
        ["created_at", "source_system", "requester_ods", "id"],
    )
    if not _sqlite():
        op.execute("DROP TRIGGER report_change ON referral_gap")
    else:
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER report_change_referral_gap_{event}")
    _triggers(_WATCHED_BEFORE)
    op.drop_table("report_unmapped")
    op.drop_table("report_quality_day")
    op.drop_index("ix_report_quality_received_on", table_name="report_quality")
    op.drop_table("report_quality")
