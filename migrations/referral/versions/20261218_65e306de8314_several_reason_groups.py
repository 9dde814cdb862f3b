"""The referral facts say whether a referral's reasons are in more than one reason group.

The reason-pairs report at the reason-group level counted the referrals that can form a pair
(its total) as the distinct referrals of the pair facts: a second scan, about half a second at a
million referrals. `report_referral.several_reason_groups` is that flag, so the total comes
from the scan that counts the referrals, as `several_reasons` gives it at the reason level.
It is set here from the pair facts already derived (a referral with a pair of groups), so the
facts stay current and nothing is queued; the refresh derives it from the reasons from now on.

"Not recorded" is no group of need, so it pairs with none and is not counted in the flag. The
pair facts left it out only as the first of a pair, which depends on the order the groups were
first seen in; the pairs of groups with "not recorded" on either side are deleted here (the
refresh no longer makes them), before the flag is set from those that are left. Such a referral
(the "reason not recorded" code beside a reason given as text only) forms no pair of groups.

Revision ID: 65e306de8314
Revises: c87278a6aa5b
Create Date: 2026-12-18 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "65e306de8314"
down_revision: str | None = "c87278a6aa5b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FLAG = "several_reason_groups"
GROUP_LEVEL = 2  # report_reason_pair.level of pairs of reason groups


def upgrade() -> None:
    op.add_column(
        "report_referral",
        sa.Column(FLAG, sa.SmallInteger(), nullable=False, server_default=sa.text("0")),
    )
    not_recorded = (
        "SELECT code FROM report_code WHERE dimension = 'reason-group' AND value = 'not-recorded'"
    )
    op.execute(
        f"DELETE FROM report_reason_pair WHERE level = {GROUP_LEVEL} "  # noqa: S608 (constants)
        f"AND (first IN ({not_recorded}) OR second IN ({not_recorded}))"
    )
    op.execute(
        f"UPDATE report_referral SET {FLAG} = 1 WHERE referral_key IN "  # noqa: S608 (constants)
        f"(SELECT referral_key FROM report_reason_pair WHERE level = {GROUP_LEVEL})"
    )


def downgrade() -> None:
    with op.batch_alter_table("report_referral") as batch:
        batch.drop_column(FLAG)
