"""Monthly data-quality counts, kept by the facts refresh beside the daily ones.

The data-quality report summed its day rows (`report_quality_day`) per request: 224,625 rows
at a million referrals for its default view (every month). `report_quality_month` holds the
same counts and key sums per month (months since January 2000), source system and sender; the
refresh sums again the months of the days it counts again, and a report over whole months reads
these. They are summed here from the day rows, so the facts stay current: nothing is queued.
From this release a refresh worker leaves the queue alone while the database is at a revision
its release does not know; the previous release's workers do not, so if they refreshed during
the rollout, `facts rebuild` brings these months up to date afterwards (docs/deploy.md).

Revision ID: 93926a62cc61
Revises: d2a7c5e9f816
Create Date: 2026-12-16 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "93926a62cc61"
down_revision: str | None = "d2a7c5e9f816"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTS = (
    "with_gap",
    "no_source",
    "unmapped_reason",
    "text_only_reason",
    "no_nhs_number",
    "not_interpreted",
    "personal_data_removed",
    "other_gap",
    "any_unmapped",
    "referrals",
)


def _month_of_received_on() -> str:
    """Months since January 2000 of `received_on`, as the application computes them."""
    if op.get_bind().dialect.name == "sqlite":
        year, month = "strftime('%Y', received_on)", "strftime('%m', received_on)"
    else:
        year, month = "EXTRACT(YEAR FROM received_on)", "EXTRACT(MONTH FROM received_on)"
    return f"CAST((CAST({year} AS INTEGER) - 2000) * 12 + CAST({month} AS INTEGER) - 1 AS INTEGER)"


def upgrade() -> None:
    op.create_table(
        "report_quality_month",
        *(
            column
            for name in COUNTS
            for column in (
                sa.Column(name, sa.Integer(), nullable=False),
                sa.Column(f"{name}_cell_key", sa.BigInteger(), nullable=False),
            )
        ),
        sa.Column("month", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("source_system", sa.String(16), nullable=False),
        sa.Column("sender", sa.String(10), nullable=False),
        sa.PrimaryKeyConstraint(
            "month", "source_system", "sender", name=op.f("pk_report_quality_month")
        ),
    )
    columns = [column for name in COUNTS for column in (name, f"{name}_cell_key")]
    month = _month_of_received_on()
    op.execute(
        f"INSERT INTO report_quality_month (month, source_system, sender, {', '.join(columns)}) "  # noqa: S608
        f"SELECT {month}, source_system, sender, "
        f"{', '.join(f'SUM({column})' for column in columns)} "
        f"FROM report_quality_day GROUP BY {month}, source_system, sender"
    )


def downgrade() -> None:
    op.drop_table("report_quality_month")
