"""The service-use facts' monthly counts by role, reason group, measure and previous months:
the service-use report by reason group (and role) reads them.

At a million referrals the `service-use` report by role and reason group scanned the 1.7
million service-use facts by reason group for every request (0.45 s). Its pairs, sums before
and after and fewer after are plain sums, and its people plain counts of the pairs whose
previous month in the group is before the range (docs/reports.md). `report_service_use_month`
holds them per month, role, reason group, measure and the previous months in the reason group,
in the role and reason group and of any group, with the person tags their cell keys add, so a
request over whole months, unfiltered, sums some tens of thousands of rows instead. It is summed
here from the facts already derived, so nothing is queued; the refresh keeps it from now on.

Revision ID: e1b7c4a9f358
Revises: c5e8a1f3d926
Create Date: 2027-01-01 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e1b7c4a9f358"
down_revision: str | None = "c5e8a1f3d926"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "report_service_use_month"
# No previous month: below every month a date can have (months count from January 2000, so
# December 1999 is -1); the SMALLINT minimum.
NO_MONTH = -32768
# Each key: the facts' value it holds (no group under -1, no previous month NO_MONTH).
KEY = {
    "month": "month",
    "role": "role",
    "reason_group": "coalesce(reason_group, -1)",
    "measure": "measure",
    "previous_group": f"coalesce(previous_month_by_reason_group, {NO_MONTH})",
    "previous_role_group": f"coalesce(previous_month_by_role_reason_group, {NO_MONTH})",
    "first_previous": f"coalesce(previous_month, {NO_MONTH})",
}
TAG = "CAST(coalesce(person_tag, 0) AS bigint)"
FEWER = "CASE WHEN after < before THEN 1 ELSE 0 END"
# Each count: the facts' value it sums (None: every row), as the refresh sums it
# (`reports.facts_repository.SERVICE_USE_COUNTS`); the sums of person tags are BIGINT.
COUNTS = {
    "pairs": None,
    "tags": TAG,
    "before_sum": "before",
    "after_sum": "after",
    "fewer": FEWER,
    "once_pairs": "use_first",
    "once_tags": f"{TAG} * use_first",
    "once_before_sum": "before * use_first",
    "once_after_sum": "after * use_first",
    "once_fewer": f"({FEWER}) * use_first",
}
TAG_SUMS = ("tags", "once_tags")

# The facts refresh's lock (`reports.facts_repository.REFRESH_LOCK`): a refresh batch of the
# previous release still running is waited for, and none starts before this revision commits;
# after that, batches see a revision their release does not know and stop (`reports.refresher`).
REFRESH_LOCK = 7_244_019_311


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"SELECT pg_advisory_xact_lock({REFRESH_LOCK})")
    op.create_table(
        TABLE,
        *(
            sa.Column(
                name, sa.String(32) if name == "measure" else sa.SmallInteger(), nullable=False
            )
            for name in KEY
        ),
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
        else f"coalesce(sum({value}), 0), coalesce(sum(CAST(({value}) AS bigint) * record_key), 0)"
        for value in COUNTS.values()
    )
    names = ", ".join(f"{name}, {name}_cell_key" for name in COUNTS)
    keys = ", ".join(KEY.values())
    op.execute(
        f"INSERT INTO {TABLE} ({', '.join(KEY)}, {names}) "  # noqa: S608 (constants)
        f"SELECT {keys}, {summed} FROM report_service_use_reason GROUP BY {keys}"
    )


def downgrade() -> None:
    op.drop_table(TABLE)
