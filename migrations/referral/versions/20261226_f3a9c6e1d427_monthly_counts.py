"""Reason pairs and referrals counted per month and role, kept by the refresh.

The `reason-pairs` report counted its pairs from the 2.6 million pair facts at a million
referrals, and its denominators (referrals, those with several reasons or groups) from the
million referral facts: about 0.35 s a request. `report_reason_pair_month` holds the pairs'
counts and record-key sums per month, role, level and pair, `report_referral_month` the
referrals' per month and role: a request over whole months, grouped and filtered by month and
role alone, sums those instead (docs/reports.md, monthly counts kept by the refresh). They are
summed here from the facts already derived, so nothing is queued; the refresh keeps them from
now on.

Revision ID: f3a9c6e1d427
Revises: e5b2d7c9f148
Create Date: 2026-12-26 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f3a9c6e1d427"
down_revision: str | None = "e5b2d7c9f148"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Each table: the facts it counts, its key and its counts (name: the flag summed, or None for
# every row), each with its key sum.
COUNTS = {
    "report_referral_month": (
        "report_referral",
        ("month", "role"),
        {
            "referrals": None,
            "several": "several_reasons",
            "several_groups": "several_reason_groups",
        },
    ),
    "report_reason_pair_month": (
        "report_reason_pair",
        ("month", "role", "level", "first", "second"),
        {"referrals": None},
    ),
}


# The facts refresh's lock (`reports.facts_repository.REFRESH_LOCK`): a refresh batch of the
# previous release still running is waited for, and none starts before this revision commits;
# after that, batches see a revision their release does not know and stop (`reports.refresher`).
REFRESH_LOCK = 7_244_019_311


def _wait_for_refreshes() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"SELECT pg_advisory_xact_lock({REFRESH_LOCK})")


def upgrade() -> None:
    _wait_for_refreshes()
    for table, (facts, key, counts) in COUNTS.items():
        op.create_table(
            table,
            *(sa.Column(name, sa.SmallInteger(), nullable=False) for name in key),
            *(
                column
                for name in counts
                for column in (
                    sa.Column(name, sa.Integer(), nullable=False),
                    sa.Column(f"{name}_cell_key", sa.BigInteger(), nullable=False),
                )
            ),
            sa.PrimaryKeyConstraint(*key, name=op.f(f"pk_{table}")),
        )
        summed = ", ".join(
            "count(*), coalesce(sum(record_key), 0)"
            if flag is None
            else f"coalesce(sum({flag}), 0), coalesce(sum({flag} * record_key), 0)"
            for flag in counts.values()
        )
        names = ", ".join(f"{name}, {name}_cell_key" for name in counts)
        keys = ", ".join(key)
        op.execute(
            f"INSERT INTO {table} ({keys}, {names}) "  # noqa: S608 (constants)
            f"SELECT {keys}, {summed} FROM {facts} GROUP BY {keys}"
        )


def downgrade() -> None:
    for table in reversed(COUNTS):
        op.drop_table(table)
