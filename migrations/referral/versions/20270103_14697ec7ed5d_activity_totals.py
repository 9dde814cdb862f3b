"""The workers' activity facts counted per role, worker and attendance outcome over all time:
the workers report over all time sums them.

At a million referrals the workers report over all time summed the first-row flags of 2.9
million activity facts for every request (about 0.5 s). Each flag marks the first row of a
referral or contact within a grouping, over all of that referral's activity, so the sum of a
flag over whole referrals counts each once: `report_activity_total` keeps every row, the contact
rows and each flag summed per role, worker and outcome (no outcome counted under -1), and a
request over all time, grouped and filtered by role and worker alone, sums its rows instead
(docs/reports.md, counts kept by the refresh). A period is still counted from the facts: a
referral's activity spans months, so its flags do not add up per month. The totals are summed
here from the facts already derived, so nothing is queued; the refresh keeps them from now on.

Revision ID: 14697ec7ed5d
Revises: f3a9c6d1e284
Create Date: 2027-01-03 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "14697ec7ed5d"
down_revision: str | None = "f3a9c6d1e284"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The first-row flags of `report_activity` (`reports.workers.FIRST_FLAGS`).
FLAGS = (
    "first_of_contact",
    "first_of_contact_role",
    "first_of_contact_worker",
    "first_of_referral",
    "first_of_referral_role",
    "first_of_referral_role_worker",
    "first_of_referral_worker",
)
# Each count and what it sums (None: every row), as the refresh sums them
# (`reports.facts_repository.ACTIVITY_COUNTS`).
COUNTS: dict[str, str | None] = {
    "activities": None,
    "contacts": "CASE WHEN contact > 0 THEN 1 ELSE 0 END",
    **{flag: flag for flag in FLAGS},
}

# The facts refresh's lock (`reports.facts_repository.REFRESH_LOCK`): a refresh batch of the
# previous release still running is waited for, and none starts before this revision commits;
# after that, batches see a revision their release does not know and stop (`reports.refresher`).
REFRESH_LOCK = 7_244_019_311


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"SELECT pg_advisory_xact_lock({REFRESH_LOCK})")
    op.create_table(
        "report_activity_total",
        sa.Column("role", sa.SmallInteger(), nullable=False),
        sa.Column("worker", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.SmallInteger(), nullable=False),
        *(
            column
            for name in COUNTS
            for column in (
                sa.Column(name, sa.Integer(), nullable=False),
                sa.Column(f"{name}_cell_key", sa.BigInteger(), nullable=False),
            )
        ),
        sa.PrimaryKeyConstraint("role", "worker", "outcome", name=op.f("pk_report_activity_total")),
    )
    summed = ", ".join(
        "count(*), coalesce(sum(record_key), 0)"
        if value is None
        # As an integer: PostgreSQL multiplies two SMALLINTs as one.
        else f"coalesce(sum({value}), 0), coalesce(sum(CAST(({value}) AS bigint) * record_key), 0)"
        for value in COUNTS.values()
    )
    names = ", ".join(f"{name}, {name}_cell_key" for name in COUNTS)
    op.execute(
        f"INSERT INTO report_activity_total (role, worker, outcome, {names}) "  # noqa: S608
        f"SELECT role, worker, coalesce(outcome, -1), {summed} FROM report_activity "
        "GROUP BY role, worker, coalesce(outcome, -1)"
    )


def downgrade() -> None:
    op.drop_table("report_activity_total")
