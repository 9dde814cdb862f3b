"""The reason facts counted per month, role, source system, reason and reason group.

At a million referrals the reasons report scanned the 1.95 million reason facts for every
request (0.27-0.37 s), and the support-match report their group rows (0.39-0.41 s), for counts
that are plain sums. `report_reason_month` holds those counts with their record keys' sums, so
a request over whole months grouped and filtered by month, role and source system alone sums
those rows instead (docs/reports.md, monthly counts kept by the refresh). It is summed here
from the facts already derived, so nothing is queued; the refresh keeps it from now on.

Revision ID: d4a9e2c7b615
Revises: b6f1d3a8c527
Create Date: 2026-12-28 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d4a9e2c7b615"
down_revision: str | None = "b6f1d3a8c527"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "report_reason_month"
# Each key: the reason facts' value it holds (a reason with no group under -1, no code).
KEY = {
    "month": "month",
    "role": "role",
    "source_system": "source_system",
    "reason": "reason",
    "reason_group": "coalesce(reason_group, -1)",
}
# Each count: the reason facts' value it sums (None: every row), as the refresh sums it
# (`reports.facts_repository.REASON_COUNTS`).
COUNTS = {
    "reasons": None,
    "group_first": "group_first",
    "referral_first": "referral_first",
    "with_support": "group_first * has_support",
    "matched": "group_first * need_met",
    "first_has_need": "first_has_need",
    "first_with_support": "first_has_need * has_support",
    "first_need_met": "first_need_met",
}

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
                sa.Column(name, sa.Integer(), nullable=False),
                sa.Column(f"{name}_cell_key", sa.BigInteger(), nullable=False),
            )
        ),
        sa.PrimaryKeyConstraint(*KEY, name=op.f(f"pk_{TABLE}")),
    )
    summed = ", ".join(
        "count(*), coalesce(sum(record_key), 0)"
        if value is None
        # As an integer: PostgreSQL multiplies two SMALLINTs as one, which 129 contacts overflow.
        else f"coalesce(sum({value}), 0), coalesce(sum(CAST(({value}) AS integer) * record_key), 0)"
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
