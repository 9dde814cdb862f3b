"""Service use by reason group without a join, and its people by their previous month.

The `service-use` report grouped by reason group joined its 900,000 pairs to the 1.8 million
reason rows at a million referrals (0.8 s), then counted the people with other referrals by
DISTINCT, joined again (0.7 s): 1.8 s with the totals. Now:
- `report_service_use_reason` holds each service-use fact once per reason group of its
  referral (the reason facts' `group_first` rows), with `use_first` on one row per referral
  and measure, so the groups and the totals come from one scan of it;
- `report_service_use` carries each person's previous month per measure, in any group and by
  role, and the new table its copy and the previous month by reason group, and by role and
  reason group (`reports.models.SERVICE_USE_PREVIOUS_MONTH_COLUMNS`), so people over whole
  months are plain counts (docs/reports.md, people counted by their previous month).
Both are set here from the facts already derived, so nothing is queued; the refresh keeps them
from now on.

Revision ID: e5b2d7c9f148
Revises: c3d8f1a6e592
Create Date: 2026-12-25 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e5b2d7c9f148"
down_revision: str | None = "c3d8f1a6e592"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Each previous-month column and the fact columns of its groups, as the model declares them.
USE_COLUMNS = {
    "previous_month": ("measure",),
    "previous_month_by_role": ("measure", "role"),
}
REASON_COLUMNS = {
    "previous_month_by_reason_group": ("measure", "reason_group"),
    "previous_month_by_role_reason_group": ("measure", "role", "reason_group"),
}
KEY = ("referral_key", "measure")
# The columns of `report_service_use` the new table copies, as they stand at this revision
# (name, type, nullable): its own, the referral's dimensions and copied measures, and the
# previous month in any group.
COPIED = [
    ("measure", sa.String(32), False),
    ("before", sa.Integer(), False),
    ("after", sa.Integer(), False),
    ("referral_key", sa.Integer(), False),
    ("authored_on", sa.Date(), False),
    ("month", sa.SmallInteger(), False),
    ("role", sa.SmallInteger(), False),
    ("source", sa.SmallInteger(), True),
    ("source_system", sa.SmallInteger(), False),
    ("practice", sa.SmallInteger(), True),
    ("pcn", sa.SmallInteger(), True),
    ("age_band", sa.SmallInteger(), True),
    ("gender", sa.SmallInteger(), True),
    ("ethnicity", sa.SmallInteger(), True),
    ("ethnic_category", sa.SmallInteger(), True),
    ("imd_decile", sa.SmallInteger(), True),
    ("record_key", sa.SmallInteger(), False),
    ("person_key", sa.BigInteger(), True),
    ("first_contact_days", sa.Integer(), True),
    ("closure_days", sa.Integer(), True),
    ("shared_person", sa.SmallInteger(), False),
    ("person_tag", sa.Integer(), True),
    ("previous_month", sa.SmallInteger(), True),
]
ZERO = ("record_key", "shared_person")  # their server default


# The facts refresh's lock (`reports.facts_repository.REFRESH_LOCK`): a refresh batch of the
# previous release still running is waited for, and none starts before this revision commits;
# after that, batches see a revision their release does not know and stop (`reports.refresher`).
REFRESH_LOCK = 7_244_019_311


def _wait_for_refreshes() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"SELECT pg_advisory_xact_lock({REFRESH_LOCK})")


def upgrade() -> None:
    _wait_for_refreshes()
    with op.batch_alter_table("report_service_use") as batch:
        for column in USE_COLUMNS:
            batch.add_column(sa.Column(column, sa.SmallInteger(), nullable=True))
    _set("report_service_use", USE_COLUMNS, KEY)
    op.create_table(
        "report_service_use_reason",
        *(
            sa.Column(name, kind, nullable=nullable, server_default="0" if name in ZERO else None)
            for name, kind, nullable in COPIED
        ),
        sa.Column("reason", sa.SmallInteger(), nullable=False),
        sa.Column("reason_group", sa.SmallInteger(), nullable=True),
        sa.Column("use_first", sa.SmallInteger(), nullable=False),
        *(sa.Column(column, sa.SmallInteger(), nullable=True) for column in REASON_COLUMNS),
        sa.PrimaryKeyConstraint(
            "referral_key", "measure", "reason", name=op.f("pk_report_service_use_reason")
        ),
    )
    copied = [name for name, _, _ in COPIED]
    names = ", ".join(copied)
    selected = ", ".join(f"report_service_use.{name}" for name in copied)
    op.execute(
        f"INSERT INTO report_service_use_reason ({names}, reason, reason_group, use_first) "  # noqa: S608
        f"SELECT {selected}, report_reason.reason, report_reason.reason_group, "
        "report_reason.referral_first "
        "FROM report_service_use JOIN report_reason "
        "ON report_reason.referral_key = report_service_use.referral_key "
        "AND report_reason.group_first = 1"
    )
    _set("report_service_use_reason", REASON_COLUMNS, (*KEY, "reason"))


def _set(table: str, columns: dict[str, tuple[str, ...]], key: tuple[str, ...]) -> None:
    """Set `columns` on the rows of `table` of people with other referrals."""
    windows = ", ".join(
        f"lag(month) OVER (PARTITION BY {', '.join(('person_key', *groups))} "
        f"ORDER BY authored_on, referral_key) AS {column}"
        for column, groups in columns.items()
    )
    assignments = ", ".join(f"{column} = previous.{column}" for column in columns)
    matches = " AND ".join(f"{table}.{name} = previous.{name}" for name in key)
    op.execute(
        f"UPDATE {table} SET {assignments} "  # noqa: S608 (constants)
        f"FROM (SELECT {', '.join(key)}, {windows} FROM {table} "
        f"WHERE shared_person = 1) AS previous WHERE {matches}"
    )


def downgrade() -> None:
    op.drop_table("report_service_use_reason")
    with op.batch_alter_table("report_service_use") as batch:
        for column in USE_COLUMNS:
            batch.drop_column(column)
