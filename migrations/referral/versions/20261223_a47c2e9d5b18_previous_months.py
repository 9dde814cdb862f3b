"""The referral facts carry each person's previous month per breakdown.

The reports count distinct people per group. With `COUNT(DISTINCT)` PostgreSQL sorts or hashes
the rows of the people with other referrals, which at a million referrals costs the `referrals`
report 0.6-0.7 s by month or by PCN and role, about 0.95 s by reason group. A column per
breakdown now holds, on each row of a person with other referrals, the month of that person's
previous referral in the same group (`reports.models.PREVIOUS_MONTH_COLUMNS` on the referral
facts, `REASON_GROUP_PREVIOUS_MONTH` on the reason facts' rows that are the first of their
group), so people over a run of whole months become a plain count (docs/reports.md, people counted by their previous month). They are set here from
the facts already derived, so the facts stay current and nothing is queued; the refresh sets
them from now on.

Revision ID: a47c2e9d5b18
Revises: 5d1e9b7a3c40
Create Date: 2026-12-23 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a47c2e9d5b18"
down_revision: str | None = "5d1e9b7a3c40"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Each column and the fact columns of its breakdown's groups, as the model declares them.
COLUMNS = {
    "previous_month": (),
    "previous_month_by_month": ("month",),
    "previous_month_by_role": ("role",),
    "previous_month_by_pcn_role": ("pcn", "role"),
    "previous_month_by_practice": ("practice",),
}


REASON_COLUMNS = {"previous_month_by_reason_group": ("reason_group",)}


def upgrade() -> None:
    _add("report_referral", COLUMNS, ("referral_key",), "")
    _add("report_reason", REASON_COLUMNS, ("referral_key", "reason"), "AND group_first = 1")


def _add(table: str, columns: dict[str, tuple[str, ...]], key: tuple[str, ...], rows: str) -> None:
    """Add `columns` to `table` and set them on its `rows` of people with other referrals."""
    with op.batch_alter_table(table) as batch:
        for column in columns:
            batch.add_column(sa.Column(column, sa.SmallInteger(), nullable=True))
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
        f"WHERE shared_person = 1 {rows}) AS previous WHERE {matches}"
    )


def downgrade() -> None:
    for table, columns in (("report_reason", REASON_COLUMNS), ("report_referral", COLUMNS)):
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.drop_column(column)
