"""Report facts: narrow per-referral tables reports scan, and the change queue that keeps them current.

`report_referral`, `report_reason`, `report_reason_pair`, `report_support` and `report_score`
hold what reports aggregate, each row carrying the referral's dimensions. Triggers on the
tables the facts are derived from write the id of every changed referral to `report_change`;
`referral_api.reports.facts.refresh` rebuilds those referrals' facts before a report is
served. `report_state` replaces `report_pseudonym_state`: the pseudonym key's fingerprint and
when the facts were last refreshed. Existing referrals are queued, so the first report (or
`python -m referral_api.reports.facts refresh`) builds their facts.

Revision ID: 7c41d2e8a9f3
Revises: 5e7a0c3b9d21
Create Date: 2026-11-22 15:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7c41d2e8a9f3"
down_revision: str | None = "5e7a0c3b9d21"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Tables whose rows carry `referral_id`; `referral` itself and `assessment_score` (through its
# assessment) are watched too. Referral updates matter only when a reported column is set.
CHILD_TABLES = (
    "referral_reason",
    "referral_person",
    "referral_lifecycle",
    "support_offered",
    "contact",
    "assessment",
    "referral_link",
)
REFERRAL_COLUMNS = (
    "nhs_number",
    "received_by_role",
    "source_of_referral_group",
    "source_system",
    "authored_at",
)
FACT_TABLES = (
    "report_referral",
    "report_reason",
    "report_reason_pair",
    "report_support",
    "report_score",
)


def _dimensions() -> list[sa.Column]:
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


def _fact_table(name: str, columns: list[sa.Column], key: list[str]) -> None:
    # No foreign key to referral: deletions reach the facts through the change queue.
    op.create_table(
        name,
        *columns,
        *_dimensions(),
        sa.PrimaryKeyConstraint("referral_id", *key, name=op.f(f"pk_{name}")),
    )


def _flags(*names: str) -> list[sa.Column]:
    return [sa.Column(name, sa.SmallInteger(), nullable=False) for name in names]


def upgrade() -> None:
    op.drop_table("report_pseudonym_state")
    op.create_table(
        "report_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("key_fingerprint", sa.String(length=16), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_state")),
    )
    op.create_table(
        "report_change",
        sa.Column(
            "sequence",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("referral_id", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("sequence", name=op.f("pk_report_change")),
    )
    _fact_table(
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
    _fact_table(
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
    _fact_table(
        "report_reason_pair",
        [
            sa.Column("level", sa.String(length=12), nullable=False),
            sa.Column("first", sa.String(length=64), nullable=False),
            sa.Column("second", sa.String(length=64), nullable=False),
        ],
        ["level", "first", "second"],
    )
    _fact_table(
        "report_support",
        [
            sa.Column("support_code", sa.String(length=64), nullable=False),
            sa.Column("support_group", sa.String(length=32), nullable=False),
            *_flags("offers", "onward_referrals"),
        ],
        ["support_code"],
    )
    _fact_table(
        "report_score",
        [
            sa.Column("measure", sa.String(length=48), nullable=False),
            sa.Column("instrument", sa.String(length=16), nullable=False),
            sa.Column("baseline", sa.Float(), nullable=False),
            sa.Column("follow_up", sa.Float(), nullable=False),
        ],
        ["measure"],
    )
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_triggers()
    else:
        _sqlite_triggers()
    # Every referral already stored needs its facts built.
    op.execute("INSERT INTO report_change (referral_id) SELECT id FROM referral")


def _postgresql_triggers() -> None:
    for name, body in (
        ("report_change_of_referral", "CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END"),
        (
            "report_change_of_child",
            "CASE WHEN TG_OP = 'DELETE' THEN OLD.referral_id ELSE NEW.referral_id END",
        ),
    ):
        op.execute(f"""
            CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO report_change (referral_id) VALUES ({body});
                RETURN NULL;
            END $$
        """)  # noqa: S608 (fixed names)
    op.execute("""
        CREATE FUNCTION report_change_of_score() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO report_change (referral_id)
            SELECT referral_id FROM assessment
            WHERE id = CASE WHEN TG_OP = 'DELETE' THEN OLD.assessment_id
                            ELSE NEW.assessment_id END;
            RETURN NULL;
        END $$
    """)
    op.execute(
        "CREATE TRIGGER report_change AFTER INSERT OR DELETE OR UPDATE OF "
        f"{', '.join(REFERRAL_COLUMNS)} ON referral "
        "FOR EACH ROW EXECUTE FUNCTION report_change_of_referral()"
    )
    for table in CHILD_TABLES:
        op.execute(
            f"CREATE TRIGGER report_change AFTER INSERT OR UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION report_change_of_child()"
        )
    op.execute(
        "CREATE TRIGGER report_change AFTER INSERT OR UPDATE OR DELETE ON assessment_score "
        "FOR EACH ROW EXECUTE FUNCTION report_change_of_score()"
    )


def _sqlite_triggers() -> None:
    def trigger(table: str, event: str, value: str, suffix: str) -> None:
        op.execute(
            f"CREATE TRIGGER report_change_{table}_{suffix} AFTER {event} ON {table} "
            f"BEGIN INSERT INTO report_change (referral_id) {value}; END"
        )

    trigger("referral", "INSERT", "VALUES (NEW.id)", "insert")
    trigger("referral", f"UPDATE OF {', '.join(REFERRAL_COLUMNS)}", "VALUES (NEW.id)", "update")
    trigger("referral", "DELETE", "VALUES (OLD.id)", "delete")
    for table in CHILD_TABLES:
        trigger(table, "INSERT", "VALUES (NEW.referral_id)", "insert")
        trigger(table, "UPDATE", "VALUES (NEW.referral_id)", "update")
        trigger(table, "DELETE", "VALUES (OLD.referral_id)", "delete")
    for event, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
        trigger(
            "assessment_score",
            event,
            f"SELECT referral_id FROM assessment WHERE id = {row}.assessment_id",  # noqa: S608
            event.lower(),
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in ("referral", *CHILD_TABLES, "assessment_score"):
            op.execute(f"DROP TRIGGER report_change ON {table}")
        for name in (
            "report_change_of_referral",
            "report_change_of_child",
            "report_change_of_score",
        ):
            op.execute(f"DROP FUNCTION {name}()")
    else:
        for table in ("referral", *CHILD_TABLES, "assessment_score"):
            for suffix in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER report_change_{table}_{suffix}")
    for table in reversed(FACT_TABLES):
        op.drop_table(table)
    op.drop_table("report_change")
    op.drop_table("report_state")
    op.create_table(
        "report_pseudonym_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("key_fingerprint", sa.String(length=16), nullable=False),
        sa.Column("keyed_through", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_pseudonym_state")),
    )
