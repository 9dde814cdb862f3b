"""The report refresh's statistics as the runtime role, and a queue emptied in a transaction.

`report_analyse_grown(tables, least_changes)` analyses those of `tables` (in this schema) that
have changed by at least half as many rows as they hold, and by `least_changes`, since they
were last analysed, and answers their names. Only a table's owner may analyse it, and a
deployment's service runs as a role that only reads and writes rows (docs/deploy.md): the
function runs as its owner, the migration's role (SECURITY DEFINER, its search path fixed to the
schema's). Each table is analysed with SKIP_LOCKED, so a table autovacuum or another replica is
analysing is left to them rather than waited for, and in a block of its own, so one that fails
is logged (a WARNING) and leaves the others analysed and the refresh going on.

`report_change_forgotten`: a delete from `report_change` (or a TRUNCATE) in a transaction makes
the change triggers forget the referral they last queued in it
(`signpost.report_change_queued`, revision 5c9e2b7d4a16), so a later write of that referral in
the same transaction queues it again. Nothing writes a referral and empties the queue in one
transaction today (the refresh and the rebuild write no watched table); a data migration may.

Revision ID: 9d4f7a2c6e31
Revises: 5c9e2b7d4a16
Create Date: 2027-01-06 09:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "9d4f7a2c6e31"
down_revision: str | None = "5c9e2b7d4a16"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite has no statistics of this kind and its triggers do not remember
    op.execute("""
        CREATE FUNCTION report_analyse_grown(tables text[], least_changes bigint)
        RETURNS SETOF text LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
        DECLARE
            grown record;
        BEGIN
            FOR grown IN
                SELECT schemaname, relname FROM pg_stat_user_tables
                WHERE schemaname = current_schema() AND relname = ANY(tables)
                  AND n_mod_since_analyze >= greatest(least_changes, n_live_tup / 2)
                ORDER BY relname
            LOOP
                BEGIN
                    EXECUTE format(
                        'ANALYZE (SKIP_LOCKED) %I.%I', grown.schemaname, grown.relname
                    );
                    RETURN NEXT grown.relname;
                EXCEPTION WHEN OTHERS THEN
                    RAISE WARNING 'report refresh: ANALYZE % failed: %', grown.relname, SQLERRM;
                END;
            END LOOP;
        END $$
    """)
    op.execute("""
        CREATE FUNCTION report_change_forgotten() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM set_config('signpost.report_change_queued', '', true);
            RETURN NULL;
        END $$
    """)
    op.execute(
        "CREATE TRIGGER report_change_forgotten AFTER DELETE OR TRUNCATE ON report_change "
        "FOR EACH STATEMENT EXECUTE FUNCTION report_change_forgotten()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER report_change_forgotten ON report_change")
    op.execute("DROP FUNCTION report_change_forgotten()")
    op.execute("DROP FUNCTION report_analyse_grown(text[], bigint)")
