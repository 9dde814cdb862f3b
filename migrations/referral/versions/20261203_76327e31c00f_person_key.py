"""People without an NHS number: referrals are filed under a person key.

`referral.person_key` is who a referral is for: the NHS number, or `local-<uuid>` for a person a
sender identifies only by its own patient number. `person_identifier` maps each such local
identifier to its person. `referral.nhs_number` and `referral_person.nhs_number` become
nullable; `referral_link` is keyed by `person_key` instead of `nhs_number`. Existing rows are
back-filled with their NHS number as person key, so report pseudonyms do not change.

On SQLite, changing NOT NULL rebuilds the table (batch mode), which drops its triggers: the
report-change triggers of `referral`, `referral_person` and `referral_link` are recreated (as
defined by revision 7c41d2e8a9f3, with `person_key` now among the watched referral columns, on
both databases, so a join of two people queues their referrals' facts).

Revision ID: 76327e31c00f
Revises: 2085cac79a2a
Create Date: 2026-12-03 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "76327e31c00f"
down_revision: str | None = "2085cac79a2a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The referral columns whose updates queue report facts, before and after this revision.
_WATCHED_BEFORE = (
    "nhs_number",
    "received_by_role",
    "source_of_referral_group",
    "source_system",
    "authored_at",
)
_WATCHED_AFTER = (*_WATCHED_BEFORE, "person_key")


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    op.create_table(
        "person_identifier",
        sa.Column("identifier_system", sa.String(length=255), nullable=False),
        sa.Column("identifier_value", sa.String(length=255), nullable=False),
        sa.Column("person_key", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint(
            "identifier_system", "identifier_value", name=op.f("pk_person_identifier")
        ),
    )
    op.create_index(op.f("ix_person_identifier_person_key"), "person_identifier", ["person_key"])

    op.add_column("referral", sa.Column("person_key", sa.String(length=64), nullable=True))
    op.execute("UPDATE referral SET person_key = nhs_number")
    with op.batch_alter_table("referral") as batch:
        batch.alter_column("person_key", existing_type=sa.String(length=64), nullable=False)
        batch.alter_column("nhs_number", existing_type=sa.String(length=10), nullable=True)
    op.create_index(op.f("ix_referral_person_key"), "referral", ["person_key"])

    with op.batch_alter_table("referral_person") as batch:
        batch.alter_column("nhs_number", existing_type=sa.String(length=10), nullable=True)

    op.add_column("referral_link", sa.Column("person_key", sa.String(length=64), nullable=True))
    op.execute("UPDATE referral_link SET person_key = nhs_number")
    op.drop_index("ix_referral_link_nhs_number", table_name="referral_link")
    with op.batch_alter_table("referral_link") as batch:
        batch.alter_column("person_key", existing_type=sa.String(length=64), nullable=False)
        batch.drop_column("nhs_number")
    op.create_index(op.f("ix_referral_link_person_key"), "referral_link", ["person_key"])

    _recreate_triggers(_WATCHED_AFTER)


def downgrade() -> None:
    without = op.get_bind().execute(
        sa.text("SELECT count(*) FROM referral WHERE nhs_number IS NULL")
    )
    if without.scalar_one():
        raise RuntimeError(
            "referrals without an NHS number are stored: the schema before person keys cannot "
            "hold them"
        )
    op.drop_index(op.f("ix_referral_link_person_key"), table_name="referral_link")
    op.add_column("referral_link", sa.Column("nhs_number", sa.String(length=10), nullable=True))
    op.execute("UPDATE referral_link SET nhs_number = person_key")
    with op.batch_alter_table("referral_link") as batch:
        batch.alter_column("nhs_number", existing_type=sa.String(length=10), nullable=False)
        batch.drop_column("person_key")
    op.create_index("ix_referral_link_nhs_number", "referral_link", ["nhs_number"])

    op.execute(
        "UPDATE referral_person SET nhs_number = (SELECT nhs_number FROM referral "
        "WHERE referral.id = referral_person.referral_id) WHERE nhs_number IS NULL"
    )
    with op.batch_alter_table("referral_person") as batch:
        batch.alter_column("nhs_number", existing_type=sa.String(length=10), nullable=False)

    op.drop_index(op.f("ix_referral_person_key"), table_name="referral")
    if not _sqlite():
        op.execute("DROP TRIGGER report_change ON referral")  # it watches person_key
    with op.batch_alter_table("referral") as batch:
        batch.alter_column("nhs_number", existing_type=sa.String(length=10), nullable=False)
        batch.drop_column("person_key")
    op.drop_table("person_identifier")

    _recreate_triggers(_WATCHED_BEFORE)


def _recreate_triggers(watched: Sequence[str]) -> None:
    """The report-change triggers of the tables this revision changes (see 7c41d2e8a9f3)."""
    if not _sqlite():
        # PostgreSQL keeps triggers through ALTER TABLE: only the watched columns change.
        op.execute("DROP TRIGGER IF EXISTS report_change ON referral")
        op.execute(
            "CREATE TRIGGER report_change AFTER INSERT OR DELETE OR UPDATE OF "
            f"{', '.join(watched)} ON referral "
            "FOR EACH ROW EXECUTE FUNCTION report_change_of_referral()"
        )
        return

    def trigger(table: str, event: str, value: str, suffix: str) -> None:
        op.execute(f"DROP TRIGGER IF EXISTS report_change_{table}_{suffix}")
        op.execute(
            f"CREATE TRIGGER report_change_{table}_{suffix} AFTER {event} ON {table} "
            f"BEGIN INSERT INTO report_change (referral_id) {value}; END"
        )

    trigger("referral", "INSERT", "VALUES (NEW.id)", "insert")
    trigger("referral", f"UPDATE OF {', '.join(watched)}", "VALUES (NEW.id)", "update")
    trigger("referral", "DELETE", "VALUES (OLD.id)", "delete")
    for table in ("referral_person", "referral_link"):
        trigger(table, "INSERT", "VALUES (NEW.referral_id)", "insert")
        trigger(table, "UPDATE", "VALUES (NEW.referral_id)", "update")
        trigger(table, "DELETE", "VALUES (OLD.referral_id)", "delete")
