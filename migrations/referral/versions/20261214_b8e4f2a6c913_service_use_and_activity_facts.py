"""Report facts for the service-use and workers reports, kept by the facts refresh.

Both reports read the normalised tables per request; at a million referrals that joined
millions of rows to the `referral` table and passed the statement timeout. Now:
- `report_service_use`: one row per referral and measure with live counts before and after,
  carrying the referral's dimensions, pseudonym and tag like the reason facts;
- `report_activity`: one row per worker's activity on a referral (a contact they took part
  in, or the referral held as its Task's owner), by `report_code` codes, with flags on the
  first row of each referral and contact per grouping of the report;
- `report_code` takes a worker's staff identifier (system|value, up to 511 characters) and
  numbers a dimension past 32,767 values;
- writes to `service_use`, `contact_worker` and `referral_task` queue their referral for the
  refresh, as the other tables the facts are derived from do. The referrals they hold now are
  queued here, so the first refresh derives their new facts; until it has, reports carry no
  `X-Facts-Refreshed-At` (`python -m referral_api.reports.facts rebuild` derives them at once).

Revision ID: b8e4f2a6c913
Revises: a7d3c9e1f2b4
Create Date: 2026-12-14 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b8e4f2a6c913"
down_revision: str | None = "a7d3c9e1f2b4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WATCHED = ("service_use", "contact_worker", "referral_task")
# The activity facts' flags on the first row of each referral and contact per grouping.
FIRST_FLAGS = (
    "first_of_contact",
    "first_of_contact_role",
    "first_of_contact_worker",
    "first_of_referral",
    "first_of_referral_role",
    "first_of_referral_role_worker",
    "first_of_referral_worker",
)


def _dimensions_and_copied_measures() -> list[sa.Column]:
    """The referral's dimensions and the measures the reason facts copy, as they stand at
    this revision (as `report_reason` holds them)."""
    return [
        sa.Column("referral_key", sa.Integer(), nullable=False),
        sa.Column("authored_on", sa.Date(), nullable=False),
        sa.Column("month", sa.SmallInteger(), nullable=False),
        sa.Column("role", sa.SmallInteger(), nullable=False),
        sa.Column("source", sa.SmallInteger(), nullable=True),
        sa.Column("source_system", sa.SmallInteger(), nullable=False),
        sa.Column("practice", sa.SmallInteger(), nullable=True),
        sa.Column("pcn", sa.SmallInteger(), nullable=True),
        sa.Column("age_band", sa.SmallInteger(), nullable=True),
        sa.Column("gender", sa.SmallInteger(), nullable=True),
        sa.Column("ethnicity", sa.SmallInteger(), nullable=True),
        sa.Column("ethnic_category", sa.SmallInteger(), nullable=True),
        sa.Column("imd_decile", sa.SmallInteger(), nullable=True),
        sa.Column("record_key", sa.SmallInteger(), nullable=False, server_default="0"),
        sa.Column("person_key", sa.BigInteger(), nullable=True),
        sa.Column("first_contact_days", sa.Integer(), nullable=True),
        sa.Column("closure_days", sa.Integer(), nullable=True),
        sa.Column("shared_person", sa.SmallInteger(), nullable=False, server_default="0"),
        sa.Column("person_tag", sa.Integer(), nullable=True),
    ]


def upgrade() -> None:
    op.create_table(
        "report_service_use",
        sa.Column("measure", sa.String(32), nullable=False),
        sa.Column("before", sa.Integer(), nullable=False),
        sa.Column("after", sa.Integer(), nullable=False),
        *_dimensions_and_copied_measures(),
        sa.PrimaryKeyConstraint("referral_key", "measure", name=op.f("pk_report_service_use")),
    )
    op.create_table(
        "report_activity",
        sa.Column("referral_key", sa.Integer(), nullable=False),
        sa.Column("contact", sa.Integer(), nullable=False),
        sa.Column("worker", sa.Integer(), nullable=False),
        sa.Column("role", sa.SmallInteger(), nullable=False),
        sa.Column("record_key", sa.SmallInteger(), nullable=False),
        sa.Column("day", sa.Date(), nullable=True),
        sa.Column("until", sa.Date(), nullable=True),
        sa.Column("outcome", sa.SmallInteger(), nullable=True),
        *(sa.Column(name, sa.SmallInteger(), nullable=False) for name in FIRST_FLAGS),
        sa.PrimaryKeyConstraint(
            "referral_key", "contact", "worker", "role", name=op.f("pk_report_activity")
        ),
    )
    with op.batch_alter_table("report_code") as batch:
        batch.alter_column("value", type_=sa.String(512), existing_nullable=False)
        batch.alter_column("code", type_=sa.Integer(), existing_nullable=False)
    if op.get_bind().dialect.name == "postgresql":
        for table in WATCHED:
            op.execute(
                f"CREATE TRIGGER report_change AFTER INSERT OR UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION report_change_of_child()"
            )
    else:
        for table in WATCHED:
            for event, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
                name = f"report_change_{table}_{event.lower()}"
                queue = f"INSERT INTO report_change (referral_id) VALUES ({row}.referral_id)"  # noqa: S608
                op.execute(f"CREATE TRIGGER {name} AFTER {event} ON {table} BEGIN {queue}; END")
    held = " UNION ".join(f"SELECT referral_id FROM {table}" for table in WATCHED)  # noqa: S608
    op.execute(f"INSERT INTO report_change (referral_id) {held}")
    # The new facts are empty until the refresh has derived every queued referral: reports do
    # not claim to be current until then (no X-Facts-Refreshed-At, as before a first build).
    op.execute("UPDATE report_state SET refreshed_at = NULL")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in WATCHED:
            op.execute(f"DROP TRIGGER report_change ON {table}")
    else:
        for table in WATCHED:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER report_change_{table}_{event}")
    op.execute("DELETE FROM report_code WHERE dimension = 'worker'")
    with op.batch_alter_table("report_code") as batch:
        batch.alter_column("code", type_=sa.SmallInteger(), existing_nullable=False)
        batch.alter_column("value", type_=sa.String(64), existing_nullable=False)
    op.drop_table("report_activity")
    op.drop_table("report_service_use")
