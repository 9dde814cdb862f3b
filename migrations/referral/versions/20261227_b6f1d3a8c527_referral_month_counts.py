"""The referrals' monthly counts by source system and status, with the completeness and
attendance counts and the referrals offered support.

`report_referral_month` held the referrals per month and role (the `reason-pairs` report's
denominators). At a million referrals the completeness, attendance and outcomes reports each
scanned the million referral facts (0.2-0.3 s a request) for counts that are plain sums. The
table is now kept per month, role, source system and lifecycle status, with those reports'
counts and the referrals offered any support (the support and outcomes reports') too, so a
request over whole months grouped and filtered by month, role and source system alone sums a
few thousand rows instead (docs/reports.md, monthly counts kept by the refresh). It is summed here from the facts already derived, so nothing is queued; the refresh
keeps it from now on.

Revision ID: b6f1d3a8c527
Revises: f3a9c6e1d427
Create Date: 2026-12-27 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b6f1d3a8c527"
down_revision: str | None = "f3a9c6e1d427"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "report_referral_month"
# The counts as the previous revision kept them, per month and role.
EARLIER_KEY = ("month", "role")
EARLIER_COUNTS = {
    "referrals": None,
    "several": "several_reasons",
    "several_groups": "several_reason_groups",
}
KEY = ("month", "role", "source_system", "status")
# Each count: the referral facts' value it sums (None: every row), as the refresh sums it
# (`reports.facts_repository.REFERRAL_COUNTS`).
COUNTS = {
    **EARLIER_COUNTS,
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

# The facts refresh's lock (`reports.facts_repository.REFRESH_LOCK`): a refresh batch of the
# previous release still running is waited for, and none starts before this revision commits;
# after that, batches see a revision their release does not know and stop (`reports.refresher`).
REFRESH_LOCK = 7_244_019_311


def _wait_for_refreshes() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"SELECT pg_advisory_xact_lock({REFRESH_LOCK})")


def _create(key: Sequence[str], counts: dict[str, str | None]) -> None:
    """The table with `key` and `counts`, summed from the referral facts."""
    op.create_table(
        TABLE,
        *(sa.Column(name, sa.SmallInteger(), nullable=False) for name in key),
        *(
            column
            for name in counts
            for column in (
                sa.Column(name, sa.Integer(), nullable=False),
                sa.Column(f"{name}_cell_key", sa.BigInteger(), nullable=False),
            )
        ),
        sa.PrimaryKeyConstraint(*key, name=op.f(f"pk_{TABLE}")),
    )
    summed = ", ".join(
        "count(*), coalesce(sum(record_key), 0)"
        if value is None
        # As an integer: PostgreSQL multiplies two SMALLINTs as one, which 129 contacts overflow.
        else f"coalesce(sum({value}), 0), coalesce(sum(CAST(({value}) AS integer) * record_key), 0)"
        for value in counts.values()
    )
    names = ", ".join(f"{name}, {name}_cell_key" for name in counts)
    keys = ", ".join(key)
    op.execute(
        f"INSERT INTO {TABLE} ({keys}, {names}) "  # noqa: S608 (constants)
        f"SELECT {keys}, {summed} FROM report_referral GROUP BY {keys}"
    )


def upgrade() -> None:
    _wait_for_refreshes()
    op.drop_table(TABLE)
    _create(KEY, COUNTS)


def downgrade() -> None:
    _wait_for_refreshes()
    op.drop_table(TABLE)
    _create(EARLIER_KEY, EARLIER_COUNTS)
