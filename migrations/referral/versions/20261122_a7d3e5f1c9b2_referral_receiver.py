"""Referrals record their receiving organisation (performer ODS code) for object-level access.

A caller whose token names an organisation sees the referrals it sent (requester) or received
(receiver). Existing referrals are back-filled from the `performer` of the stored resource.

Revision ID: a7d3e5f1c9b2
Revises: d5f0b9e3a7c4
Create Date: 2026-11-22 18:00:00
"""

import json
import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a7d3e5f1c9b2"
down_revision: str | None = "d5f0b9e3a7c4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The two spellings the services accept, and the ODS code pattern (as at runtime).
_ODS_SYSTEMS = {
    "https://fhir.nhs.uk/Id/ods-organization-code",
    "https://fhir.nhs.uk/id/ods-organization-code",
}
_ODS_CODE = re.compile(r"[A-Z0-9]{3,10}")
_BATCH = 1000


def upgrade() -> None:
    # A plain ADD COLUMN: a batch (table copy) on SQLite would drop the report triggers.
    op.add_column("referral", sa.Column("receiver_ods", sa.String(10), nullable=True))
    op.create_index("ix_referral_receiver_ods", "referral", ["receiver_ods"])
    connection = op.get_bind()
    rows = connection.execute(
        sa.text("SELECT id, resource FROM referral WHERE resource LIKE '%\"performer\"%'")
    ).all()
    update = sa.text("UPDATE referral SET receiver_ods = :code WHERE id = :id")
    changes = [
        {"id": referral_id, "code": code}
        for referral_id, resource in rows
        if (code := _receiver(json.loads(resource))) is not None
    ]
    for start in range(0, len(changes), _BATCH):
        connection.execute(update, changes[start : start + _BATCH])


def downgrade() -> None:
    op.drop_index("ix_referral_receiver_ods", table_name="referral")
    op.drop_column("referral", "receiver_ods")  # plain DROP COLUMN keeps the triggers


def _receiver(resource: dict[str, object]) -> str | None:
    performers = resource.get("performer")
    for performer in performers if isinstance(performers, list) else []:
        identifier = performer.get("identifier") if isinstance(performer, dict) else None
        if not isinstance(identifier, dict):
            continue
        system, value = identifier.get("system"), identifier.get("value")
        if system in _ODS_SYSTEMS and isinstance(value, str):
            code = value.strip().upper()
            return code if _ODS_CODE.fullmatch(code) else None
    return None
