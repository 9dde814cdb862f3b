"""The re-referrals and referrals in parallel in the referrals' monthly counts, and a partial
index on the referral facts in parallel.

At a million referrals the `re-referrals` report scanned the million referral facts (about
0.3 s a request) for two plain sums and the people with a referral in parallel. The sums are
now kept in `report_referral_month` beside the other counts (the table is summed again from
the facts with them), and the people are counted from the facts in parallel alone, which
`ix_report_referral_parallel` holds (docs/reports.md, monthly counts kept by the refresh). The
counts are summed here from the facts already derived, so nothing is queued; the refresh keeps
them from now on.

Revision ID: a7d2c9f4b183
Revises: e8c3f5a1d297
Create Date: 2026-12-30 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a7d2c9f4b183"
down_revision: str | None = "e8c3f5a1d297"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "report_referral_month"
KEY = ("month", "role", "source_system", "status")
# Each count: the referral facts' value it sums (None: every row), as the refresh sums it
# (`reports.facts_repository.REFERRAL_COUNTS`), as the previous revision kept them.
EARLIER_COUNTS = {
    "referrals": None,
    "several": "several_reasons",
    "several_groups": "several_reason_groups",
    "has_reason": "reason_coded",
    "has_source": "source_coded",
    "has_person": "has_person",
    "has_age_band": "has_age_band",
    "has_gender": "gender_coded",
    "has_ethnicity": "ethnicity_coded",
    "has_lsoa": "has_lsoa",
    "has_practice": "has_practice",
    "has_pcn": "has_pcn",
    "has_closure_reason": "closure_reason_recorded",
    "contacts": "contacts",
    "attended": "attended",
    "dna": "dna",
    "not_seen": "not_seen",
    "cancelled_by_patient": "cancelled_by_patient",
    "cancelled_by_provider": "cancelled_by_provider",
    "booked": "booked",
    "referrals_with_contact": "CASE WHEN contacts > 0 THEN 1 ELSE 0 END",
    "referrals_with_dna": "CASE WHEN dna > 0 THEN 1 ELSE 0 END",
    "offered": "has_support",
}
COUNTS = {**EARLIER_COUNTS, "re_referrals": "re_referral", "parallel": "parallel"}
INDEX = "ix_report_referral_parallel"
INCLUDED = ("role", "source_system", "person_key", "person_tag")

# The facts refresh's lock (`reports.facts_repository.REFRESH_LOCK`): a refresh batch of the
# previous release still running is waited for, and none starts before this revision commits;
# after that, batches see a revision their release does not know and stop (`reports.refresher`).
REFRESH_LOCK = 7_244_019_311


def _wait_for_refreshes() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"SELECT pg_advisory_xact_lock({REFRESH_LOCK})")


def _create(counts: dict[str, str | None]) -> None:
    """The table with `counts`, summed from the referral facts."""
    op.create_table(
        TABLE,
        *(sa.Column(name, sa.SmallInteger(), nullable=False) for name in KEY),
        *(
            column
            for name in counts
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
        for value in counts.values()
    )
    names = ", ".join(f"{name}, {name}_cell_key" for name in counts)
    keys = ", ".join(KEY)
    op.execute(
        f"INSERT INTO {TABLE} ({keys}, {names}) "  # noqa: S608 (constants)
        f"SELECT {keys}, {summed} FROM report_referral GROUP BY {keys}"
    )


def upgrade() -> None:
    _wait_for_refreshes()
    op.drop_table(TABLE)
    _create(COUNTS)
    # Covering on PostgreSQL: the people are counted by an index-only scan of the 8% of the
    # facts in parallel (22-45 ms at a million, against 126 ms scanning the facts).
    op.create_index(
        INDEX,
        "report_referral",
        ["month"],
        postgresql_include=list(INCLUDED),
        postgresql_where=sa.text("parallel = 1"),
        sqlite_where=sa.text("parallel = 1"),
    )


def downgrade() -> None:
    _wait_for_refreshes()
    op.drop_index(INDEX, table_name="report_referral")
    op.drop_table(TABLE)
    _create(EARLIER_COUNTS)
