"""`require_each_written(counts)`: a statement of guarded writes refuses itself unless each count
is 1.

An update message is applied from what one statement read without a lock, and its writes run as
one statement of their own, no BEGIN or COMMIT (`signpost_platform.db.execute_writes_guarded`):
first a guard that locks the referral and its summary while they are as they were read, then the
writes. The statement answers `require_each_written` of the rows the guard and each write
answered: any other count than 1 raises SQLSTATE SP001, so the whole statement is undone and the
message is processed again the usual way, with the referral locked from its first statement.

Revision ID: 3e7a1c9b5d28
Revises: 9d4f7a2c6e31
Create Date: 2027-01-07 09:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "3e7a1c9b5d28"
down_revision: str | None = "9d4f7a2c6e31"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite runs the writes one after another in the request's transaction
    op.execute("""
        CREATE FUNCTION require_each_written(counts bigint[]) RETURNS bigint
        LANGUAGE plpgsql AS $$
        BEGIN
            IF EXISTS (SELECT FROM unnest(counts) AS written WHERE written IS DISTINCT FROM 1) THEN
                RAISE EXCEPTION 'guarded writes: rows moved on since they were read (%)', counts
                    USING ERRCODE = 'SP001';
            END IF;
            RETURN cardinality(counts);
        END $$
    """)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP FUNCTION require_each_written(bigint[])")
