"""The support facts counted per month, role, source system, support, support group and status.

At a million referrals the support report scanned the support facts and the referral facts for
every request (0.29 s with no breakdown), and the outcomes report by support group the support
facts and the referral facts (0.24-0.47 s), for counts that are plain sums. `report_support_month`
holds the support facts' counts with their record keys' sums (the referrals offered none come
from `report_referral_month`), so a request over whole months grouped and filtered by month,
role and source system alone sums those rows instead (docs/reports.md, monthly counts kept by
the refresh). It is summed here from the facts already derived, so nothing is queued; the
refresh keeps it from now on.

Revision ID: e8c3f5a1d297
Revises: d4a9e2c7b615
Create Date: 2026-12-29 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e8c3f5a1d297"
down_revision: str | None = "d4a9e2c7b615"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "report_support_month"
# Each key: the support facts' value it holds (no status under -1, no code).
KEY = {
    "month": "month",
    "role": "role",
    "source_system": "source_system",
    "support": "support",
    "support_group": "support_group",
    "status": "coalesce(status, -1)",
}
# Each count: the support facts' value it sums (None: every row), as the refresh sums it
# (`reports.facts_repository.SUPPORT_COUNTS`).
COUNTS = {
    "supports": None,
    "group_first": "group_first",
    "offers": "offers",
    "onward_referrals": "onward_referrals",
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
        f"SELECT {keys}, {summed} FROM report_support GROUP BY {keys}"
    )


def downgrade() -> None:
    op.drop_table(TABLE)
