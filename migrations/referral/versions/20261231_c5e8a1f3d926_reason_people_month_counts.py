"""The reason facts' monthly counts by reason group and previous months: the referrals report
counts people by reason group from them.

At a million referrals the `referrals` report by reason group scanned the 1.8 million group
rows of the reason facts for every request (0.28 s): its people are each group's rows whose
previous month in the group is before the range (or none), and its total people the referrals'
first rows by their previous month of any group, which are plain counts.
`report_reason_people_month` holds them per month, reason group and those two previous months,
with the person tags their cell keys add, so a request over whole months, unfiltered, sums a
few tens of thousands of rows instead (docs/reports.md, monthly counts kept by the refresh). It is summed here from the
facts already derived, so nothing is queued; the refresh keeps it from now on.

Revision ID: c5e8a1f3d926
Revises: a7d2c9f4b183
Create Date: 2026-12-31 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c5e8a1f3d926"
down_revision: str | None = "a7d2c9f4b183"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "report_reason_people_month"
# No previous month: below every month a date can have (months count from January 2000, so
# December 1999 is -1); the SMALLINT minimum.
NO_MONTH = -32768
# Each key: the reason facts' value it holds (no group under -1, no previous month NO_MONTH).
KEY = {
    "month": "month",
    "reason_group": "coalesce(reason_group, -1)",
    "previous": f"coalesce(previous_month_by_reason_group, {NO_MONTH})",
    "first_previous": f"coalesce(previous_month, {NO_MONTH})",
}
TAG = "CAST(coalesce(person_tag, 0) AS bigint)"
# Each count: the reason facts' value it sums (None: every row), as the refresh sums it
# (`reports.facts_repository.REASON_PEOPLE_COUNTS`); the sums of person tags are BIGINT.
COUNTS = {
    "reasons": None,
    "group_rows": "group_first",
    "group_tags": f"group_first * {TAG}",
    "first_rows": "referral_first",
    "first_tags": f"referral_first * {TAG}",
}
TAG_SUMS = ("group_tags", "first_tags")

# The facts refresh's lock (`reports.facts_repository.REFRESH_LOCK`): a refresh batch of the
# previous release still running is waited for, and none starts before this revision commits;
# after that, batches see a revision their release does not know and stop (`reports.refresher`).
REFRESH_LOCK = 7_244_019_311


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"SELECT pg_advisory_xact_lock({REFRESH_LOCK})")
    op.create_table(
        TABLE,
        *(sa.Column(name, sa.SmallInteger(), nullable=False) for name in KEY),
        *(
            column
            for name in COUNTS
            for column in (
                sa.Column(
                    name, sa.BigInteger() if name in TAG_SUMS else sa.Integer(), nullable=False
                ),
                sa.Column(f"{name}_cell_key", sa.BigInteger(), nullable=False),
            )
        ),
        sa.PrimaryKeyConstraint(*KEY, name=op.f(f"pk_{TABLE}")),
    )
    summed = ", ".join(
        "count(*), coalesce(sum(record_key), 0)"
        if value is None
        # As an integer: PostgreSQL multiplies two SMALLINTs as one.
        else f"coalesce(sum({value}), 0), coalesce(sum(CAST(({value}) AS bigint) * record_key), 0)"
        for value in COUNTS.values()
    )
    names = ", ".join(f"{name}, {name}_cell_key" for name in COUNTS)
    keys = ", ".join(KEY.values())
    op.execute(
        f"INSERT INTO {TABLE} ({', '.join(KEY)}, {names}) "  # noqa: S608 (constants)
        f"SELECT {keys}, {summed} FROM report_reason GROUP BY {keys}"
    )


def downgrade() -> None:
    op.drop_table(TABLE)
