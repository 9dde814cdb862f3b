"""The referral and reason facts' monthly counts by histogram of waits: the waiting-times report
sums its histograms from them.

At a million referrals the `waiting-times` report counted the referral facts (or, by reason
group, the 1.8 million group rows of the reason facts) per pair of waits for every request
(0.2-0.35 s, and 0.75 s by reason group). Its three histograms are plain counts: referrals, and
those that waited so many days to the first attended contact and to closure.
`report_wait_month` holds them per month, role and source system, and
`report_reason_wait_month` per month and reason group (every row, the group rows and their
referrals' first rows): `wait` 0 counts every referral (`days` 0), 1 and 2 those that reached
each wait, by its days. A request over whole months sums their rows instead (docs/reports.md,
monthly counts kept by the refresh). They are summed here from the facts already derived, so
nothing is queued; the refresh keeps them from now on.

Revision ID: f3a9c6d1e284
Revises: e1b7c4a9f358
Create Date: 2027-01-02 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f3a9c6d1e284"
down_revision: str | None = "e1b7c4a9f358"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Each histogram (`reports.facts_repository.WAIT_CODES`): the facts' days of its wait (every
# row, as 0 days, for the referrals).
WAITS = {0: None, 1: "first_contact_days", 2: "closure_days"}
# Each table: the facts it sums, the facts' columns it keeps, its keys (the value each holds)
# and its counts (the value each sums, None: every row), as the refresh sums them
# (`reports.facts_repository.WAIT_COUNTS`, `REASON_WAIT_COUNTS`).
TABLES = {
    "report_wait_month": (
        "report_referral",
        ("month", "role", "source_system"),
        {"month": "month", "role": "role", "source_system": "source_system"},
        {"referrals": None},
    ),
    "report_reason_wait_month": (
        "report_reason",
        ("month", "reason_group", "group_first", "referral_first"),
        {"month": "month", "reason_group": "coalesce(reason_group, -1)"},
        {
            "reasons": None,
            "group_rows": "group_first",
            "first_rows": "group_first * referral_first",
        },
    ),
}

# The facts refresh's lock (`reports.facts_repository.REFRESH_LOCK`): a refresh batch of the
# previous release still running is waited for, and none starts before this revision commits;
# after that, batches see a revision their release does not know and stop (`reports.refresher`).
REFRESH_LOCK = 7_244_019_311


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"SELECT pg_advisory_xact_lock({REFRESH_LOCK})")
    for table, (facts, columns, keys, counts) in TABLES.items():
        op.create_table(
            table,
            *(sa.Column(name, sa.SmallInteger(), nullable=False) for name in keys),
            sa.Column("wait", sa.SmallInteger(), nullable=False),
            sa.Column("days", sa.Integer(), nullable=False),
            *(
                column
                for name in counts
                for column in (
                    sa.Column(name, sa.Integer(), nullable=False),
                    sa.Column(f"{name}_cell_key", sa.BigInteger(), nullable=False),
                )
            ),
            sa.PrimaryKeyConstraint(*keys, "wait", "days", name=op.f(f"pk_{table}")),
        )
        kept = ", ".join(("record_key", *columns))
        by_wait = " UNION ALL ".join(
            f"SELECT {kept}, {wait} AS wait, "  # noqa: S608 (constants)
            + (f"0 AS days FROM {facts}" if days is None else f"{days} FROM {facts} ")
            + ("" if days is None else f"WHERE {days} IS NOT NULL")
            for wait, days in WAITS.items()
        )
        summed = ", ".join(
            "count(*), coalesce(sum(record_key), 0)"
            if value is None
            # As an integer: PostgreSQL multiplies two SMALLINTs as one.
            else f"coalesce(sum({value}), 0), "
            f"coalesce(sum(CAST(({value}) AS bigint) * record_key), 0)"
            for value in counts.values()
        )
        names = ", ".join(f"{name}, {name}_cell_key" for name in counts)
        grouped = ", ".join((*keys.values(), "wait", "days"))
        op.execute(
            f"INSERT INTO {table} ({', '.join(keys)}, wait, days, {names}) "  # noqa: S608
            f"SELECT {grouped}, {summed} FROM ({by_wait}) AS by_wait GROUP BY {grouped}"
        )


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
