"""The change queue takes a referral once for a run of writes to it in one transaction.

The triggers on `referral` and the tables whose rows carry `referral_id` queued the referral
once for every row written: a REST create of a referral with two reasons wrote four entries, a
`new` message nine, an update message adding a contact two. The refresh reads each referral
once however often it is queued, so the rest were written, read and deleted for nothing; each
of these now writes one. Each trigger now remembers, for the rest of its
transaction, the referral it last queued (`signpost.report_change_queued`, a transaction-local
setting) and queues a referral only when it is not that one: one entry for a run of writes to
one referral, and as before one per row for writes that go from referral to referral.

A transaction-local setting is undone with the transaction, and with a savepoint rolled back
after it was set (as the entry it stood for is): the next write of the referral queues it
again. A delete from the queue in the same transaction is the one way left to lose the entry
the setting stands for; revision 9d4f7a2c6e31 makes it forget the setting.

Revision ID: 5c9e2b7d4a16
Revises: b8e3d5a1c742
Create Date: 2027-01-05 09:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "5c9e2b7d4a16"
down_revision: str | None = "b8e3d5a1c742"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (function, the changed referral's id in a row of the trigger's table)
_FUNCTIONS = (
    ("report_change_of_referral", "CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END"),
    (
        "report_change_of_child",
        "CASE WHEN TG_OP = 'DELETE' THEN OLD.referral_id ELSE NEW.referral_id END",
    ),
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite's triggers are plain statements; its writers are few and one at a time
    for name, changed in _FUNCTIONS:
        op.execute(f"""
            CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
            DECLARE
                changed varchar := {changed};
            BEGIN
                IF changed IS DISTINCT FROM
                        current_setting('signpost.report_change_queued', true) THEN
                    INSERT INTO report_change (referral_id) VALUES (changed);
                    PERFORM set_config('signpost.report_change_queued', changed, true);
                END IF;
                RETURN NULL;
            END $$
        """)  # noqa: S608 (fixed names)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, changed in _FUNCTIONS:
        op.execute(f"""
            CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO report_change (referral_id) VALUES ({changed});
                RETURN NULL;
            END $$
        """)  # noqa: S608 (fixed names)
