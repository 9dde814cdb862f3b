"""`referral_lock_and_look`: a REST create for a person named by NHS number alone takes its
locks and looks for the person's other referrals and for messages held for its identifiers in
the statement that inserts it, its own transaction (one round trip, no BEGIN or COMMIT).

The statement's own snapshot is taken before it waits for the locks, so what another writer of
the person or the identifiers commits while it waits would not be seen by the statement itself.
A PL/pgSQL function that is VOLATILE takes a fresh snapshot for each of its statements (and is
never inlined into its caller), so its looks see everything committed before the locks were
granted, as the looks of a create whose locks went in a statement of their own do. The locks
are the ones `signpost_platform.db.lock_keys` takes (`hashtextextended(key, 0)`, in the order
given), so both kinds of create, and messages, wait for each other.

Revision ID: b8e3d5a1c742
Revises: 14697ec7ed5d
Create Date: 2027-01-04 09:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "b8e3d5a1c742"
down_revision: str | None = "14697ec7ed5d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite runs one write transaction at a time: a create there needs no locks
    op.execute(
        """
        CREATE FUNCTION referral_lock_and_look(
            lock_keys text[],
            person text,
            identifier_systems text[],
            identifier_values text[],
            OUT person_known boolean,
            OUT held boolean
        ) LANGUAGE plpgsql VOLATILE AS $$
        BEGIN
            PERFORM pg_advisory_xact_lock(hashtextextended(key, 0)) FROM unnest(lock_keys) AS key;
            -- As referrals.repository._neighbours_of reads them, in a snapshot taken now.
            person_known := EXISTS (SELECT FROM referral WHERE referral.person_key = person)
                OR EXISTS (SELECT FROM referral_link WHERE referral_link.person_key = person);
            held := EXISTS (
                SELECT FROM held_message
                JOIN unnest(identifier_systems, identifier_values) AS wanted (system, value)
                    ON held_message.identifier_system = wanted.system
                    AND held_message.identifier_value = wanted.value
            );
        END
        $$
        """
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION referral_lock_and_look(text[], text, text[], text[])")
