"""`referral_lock_and_look` tells whether the new referral could be linked to one of the
person's others, not whether the person has any: a person's later referral that links to none
of their others is then written by the create's one statement too.

The function takes the same locks as before and looks in snapshots taken after they were
granted. `linkable` is true when the person has another referral that could be linked to the
new one (`linkage.service.compute_links`): one to another role made within the linkage window
either side of the new one, or one to the same role that has ended (its lifecycle summary holds
a closure, a decline or a cancellation: `rendering.ended`). It is a wider test than the links
themselves (a referral to another role that ended before the new one was made is linkable here
but not linked), so a create it lets through has no link to make; a create it stops goes the
full way, which relinks the person as before. A new referral has no lifecycle summary, so it
has not ended and cannot be the earlier referral of a re-referral.

The function is a new overload (seven arguments): the four-argument one stays, so pods of the
previous release, which call it, go on creating while the rollout replaces them, and a rollback
needs no downgrade (docs/deploy.md, expand then contract). A later release may drop it.

The window is counted in hours (as Python's `timedelta(days=...)` counts it), not in calendar
days, which a time zone's change of clocks would shorten or lengthen.

Revision ID: 7b2d4e9f1a63
Revises: 3e7a1c9b5d28
Create Date: 2027-01-08 09:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "7b2d4e9f1a63"
down_revision: str | None = "3e7a1c9b5d28"
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
            role text,
            authored timestamptz,
            window_days integer,
            OUT linkable boolean,
            OUT held boolean
        ) LANGUAGE plpgsql VOLATILE AS $$
        BEGIN
            PERFORM pg_advisory_xact_lock(hashtextextended(key, 0)) FROM unnest(lock_keys) AS key;
            -- In a snapshot taken now: the person's referrals the new one could be linked to.
            linkable := EXISTS (
                SELECT FROM referral
                LEFT JOIN referral_lifecycle ON referral_lifecycle.referral_id = referral.id
                WHERE referral.person_key = person
                AND (
                    (
                        referral.received_by_role <> role
                        AND referral.authored_at
                            BETWEEN authored - make_interval(hours => window_days * 24)
                            AND authored + make_interval(hours => window_days * 24)
                    )
                    OR (
                        referral.received_by_role = role
                        AND COALESCE(
                            referral_lifecycle.closed_at,
                            referral_lifecycle.declined_at,
                            referral_lifecycle.cancelled_at
                        ) IS NOT NULL
                    )
                )
            );
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
        op.execute(
            "DROP FUNCTION referral_lock_and_look(text[], text, text[], text[], text, "
            "timestamptz, integer)"
        )
