"""Report facts keyed by small integers: a referral key and a code per dimension value.

At a million referrals the facts of 7c41d2e8a9f3 were ~350 bytes a row (a UUID and the text
of every dimension); keyed by `report_key` and coded through `report_code` they are about a
third of that, and reports scan them about three times faster. The facts are derived data:
the old tables are dropped, the new ones created empty and every referral queued, so the
first report (or `python -m referral_api.reports.facts rebuild`) builds them again.

Revision ID: b3e9f07c5d12
Revises: 7c41d2e8a9f3
Create Date: 2026-11-22 15:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b3e9f07c5d12"
down_revision: str | None = "7c41d2e8a9f3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FACT_TABLES = (
    "report_referral",
    "report_reason",
    "report_reason_pair",
    "report_support",
    "report_score",
)


def _coded_dimensions() -> list[sa.Column]:
    return [
        sa.Column("referral_key", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("authored_on", sa.Date(), nullable=False),
        sa.Column("month", sa.SmallInteger(), nullable=False),
        sa.Column("role", sa.SmallInteger(), nullable=False),
        sa.Column("source", sa.SmallInteger(), nullable=True),
        sa.Column("source_system", sa.SmallInteger(), nullable=False),
        sa.Column("practice", sa.SmallInteger(), nullable=True),
        sa.Column("pcn", sa.SmallInteger(), nullable=True),
        sa.Column("age_band", sa.SmallInteger(), nullable=True),
        sa.Column("gender", sa.SmallInteger(), nullable=True),
        sa.Column("ethnicity", sa.SmallInteger(), nullable=True),
        sa.Column("ethnic_category", sa.SmallInteger(), nullable=True),
        sa.Column("imd_decile", sa.SmallInteger(), nullable=True),
    ]


def _flags(*names: str) -> list[sa.Column]:
    return [sa.Column(name, sa.SmallInteger(), nullable=False) for name in names]


def _fact_table(name: str, columns: list[sa.Column], key: list[str]) -> None:
    op.create_table(
        name,
        *columns,
        *_coded_dimensions(),
        sa.PrimaryKeyConstraint("referral_key", *key, name=op.f(f"pk_{name}")),
    )


def upgrade() -> None:
    for table in reversed(FACT_TABLES):
        op.drop_table(table)
    op.create_table(
        "report_key",
        sa.Column("referral_key", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("referral_id", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("referral_key", name=op.f("pk_report_key")),
        sa.UniqueConstraint("referral_id", name=op.f("uq_report_key_referral_id")),
    )
    op.create_table(
        "report_code",
        sa.Column("dimension", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.Column("code", sa.SmallInteger(), nullable=False),
        sa.PrimaryKeyConstraint("dimension", "value", name=op.f("pk_report_code")),
        sa.UniqueConstraint("dimension", "code", name=op.f("uq_report_code_dimension_code")),
    )
    _fact_table(
        "report_referral",
        [
            sa.Column("person_key", sa.BigInteger(), nullable=True),
            sa.Column("status", sa.SmallInteger(), nullable=False),
            sa.Column("ended_reason", sa.SmallInteger(), nullable=True),
            sa.Column("first_contact_days", sa.Integer(), nullable=True),
            sa.Column("closure_days", sa.Integer(), nullable=True),
            *_flags(
                "contacts",
                "attended",
                "dna",
                "not_seen",
                "cancelled_by_patient",
                "cancelled_by_provider",
                "booked",
                "several_reasons",
                "has_need",
                "has_support",
                "need_met",
                "re_referral",
                "parallel",
                "reason_coded",
                "source_coded",
                "has_person",
                "has_age_band",
                "gender_coded",
                "ethnicity_coded",
                "has_lsoa",
                "has_practice",
                "has_pcn",
                "closure_reason_recorded",
            ),
        ],
        [],
    )
    op.create_index("ix_report_referral_authored_on", "report_referral", ["authored_on"])
    _fact_table(
        "report_reason",
        [
            sa.Column("reason", sa.SmallInteger(), nullable=False),
            sa.Column("reason_group", sa.SmallInteger(), nullable=True),
            *_flags("group_first", "has_support", "need_met"),
        ],
        ["reason"],
    )
    op.create_index("ix_report_reason_reason", "report_reason", ["reason", "referral_key"])
    op.create_index(
        "ix_report_reason_reason_group", "report_reason", ["reason_group", "referral_key"]
    )
    _fact_table(
        "report_reason_pair",
        [
            sa.Column("level", sa.SmallInteger(), nullable=False),
            sa.Column("first", sa.SmallInteger(), nullable=False),
            sa.Column("second", sa.SmallInteger(), nullable=False),
        ],
        ["level", "first", "second"],
    )
    _fact_table(
        "report_support",
        [
            sa.Column("support", sa.SmallInteger(), nullable=False),
            sa.Column("support_group", sa.SmallInteger(), nullable=False),
            *_flags("offers", "onward_referrals"),
        ],
        ["support"],
    )
    _fact_table(
        "report_score",
        [
            sa.Column("measure", sa.SmallInteger(), nullable=False),
            sa.Column("instrument", sa.SmallInteger(), nullable=False),
            sa.Column("baseline", sa.Float(), nullable=False),
            sa.Column("follow_up", sa.Float(), nullable=False),
        ],
        ["measure"],
    )
    op.execute("DELETE FROM report_change")
    op.execute("INSERT INTO report_change (referral_id) SELECT id FROM referral")


def _text_dimensions() -> list[sa.Column]:
    return [
        sa.Column("authored_on", sa.Date(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("role", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=True),
        sa.Column("source_system", sa.String(length=16), nullable=False),
        sa.Column("practice", sa.String(length=10), nullable=True),
        sa.Column("pcn", sa.String(length=10), nullable=True),
        sa.Column("age_band", sa.String(length=8), nullable=True),
        sa.Column("gender", sa.String(length=16), nullable=True),
        sa.Column("ethnicity", sa.String(length=32), nullable=True),
        sa.Column("ethnic_category", sa.String(length=2), nullable=True),
        sa.Column("imd_decile", sa.SmallInteger(), nullable=True),
        sa.Column("referral_id", sa.String(length=36), nullable=False),
    ]


def downgrade() -> None:
    """Back to the text facts of 7c41d2e8a9f3 (empty, every referral queued)."""
    for table in reversed(FACT_TABLES):
        op.drop_table(table)
    op.drop_table("report_code")
    op.drop_table("report_key")

    def table(name: str, columns: list[sa.Column], key: list[str]) -> None:
        op.create_table(
            name,
            *columns,
            *_text_dimensions(),
            sa.PrimaryKeyConstraint("referral_id", *key, name=op.f(f"pk_{name}")),
        )

    table(
        "report_referral",
        [
            sa.Column("person_key", sa.BigInteger(), nullable=True),
            sa.Column("lsoa_code", sa.String(length=9), nullable=True),
            sa.Column("status", sa.String(length=16), nullable=False),
            sa.Column("first_contact_days", sa.Integer(), nullable=True),
            sa.Column("closure_days", sa.Integer(), nullable=True),
            sa.Column("closure_reason_code", sa.String(length=64), nullable=True),
            sa.Column("decline_reason_code", sa.String(length=64), nullable=True),
            *_flags(
                "contacts",
                "attended",
                "dna",
                "not_seen",
                "cancelled_by_patient",
                "cancelled_by_provider",
                "booked",
                "several_reasons",
                "has_need",
                "has_support",
                "need_met",
                "re_referral",
                "parallel",
                "reason_coded",
                "source_coded",
                "has_person",
                "has_age_band",
                "gender_coded",
                "ethnicity_coded",
                "has_lsoa",
                "has_practice",
                "has_pcn",
                "closure_reason_recorded",
            ),
        ],
        [],
    )
    op.create_index("ix_report_referral_authored_on", "report_referral", ["authored_on"])
    table(
        "report_reason",
        [
            sa.Column("reason_code", sa.String(length=64), nullable=False),
            sa.Column("reason_group", sa.String(length=32), nullable=True),
            *_flags("group_first", "has_support", "need_met"),
        ],
        ["reason_code"],
    )
    op.create_index("ix_report_reason_reason_code", "report_reason", ["reason_code", "referral_id"])
    op.create_index(
        "ix_report_reason_reason_group", "report_reason", ["reason_group", "referral_id"]
    )
    table(
        "report_reason_pair",
        [
            sa.Column("level", sa.String(length=12), nullable=False),
            sa.Column("first", sa.String(length=64), nullable=False),
            sa.Column("second", sa.String(length=64), nullable=False),
        ],
        ["level", "first", "second"],
    )
    table(
        "report_support",
        [
            sa.Column("support_code", sa.String(length=64), nullable=False),
            sa.Column("support_group", sa.String(length=32), nullable=False),
            *_flags("offers", "onward_referrals"),
        ],
        ["support_code"],
    )
    table(
        "report_score",
        [
            sa.Column("measure", sa.String(length=48), nullable=False),
            sa.Column("instrument", sa.String(length=16), nullable=False),
            sa.Column("baseline", sa.Float(), nullable=False),
            sa.Column("follow_up", sa.Float(), nullable=False),
        ],
        ["measure"],
    )
    op.execute("DELETE FROM report_change")
    op.execute("INSERT INTO report_change (referral_id) SELECT id FROM referral")
