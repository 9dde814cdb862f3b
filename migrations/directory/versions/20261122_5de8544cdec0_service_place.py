"""Service places: each service's located places with their coordinates, for proximity search.

Backfilled from the service_at_location and location tables.

Revision ID: 5de8544cdec0
Revises: feb5bcdf234d
Create Date: 2026-11-22 14:44:28.396040
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5de8544cdec0"
down_revision: str | None = "feb5bcdf234d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "service_place",
        sa.Column("service_id", sa.String(length=36), nullable=False),
        sa.Column("location_id", sa.String(length=36), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["service.id"],
            name=op.f("fk_service_place_service_id_service"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("service_id", "location_id", name=op.f("pk_service_place")),
    )
    with op.batch_alter_table("service_place", schema=None) as batch_op:
        batch_op.create_index(
            "ix_service_place_latitude_longitude",
            ["latitude", "longitude", "service_id"],
            unique=False,
        )
    op.execute(
        "INSERT INTO service_place (service_id, location_id, latitude, longitude) "
        "SELECT DISTINCT link.service_id, link.location_id, location.latitude, location.longitude "
        "FROM service_at_location AS link JOIN location ON location.id = link.location_id "
        "JOIN service ON service.id = link.service_id "
        "WHERE location.latitude IS NOT NULL AND location.longitude IS NOT NULL "
        "AND service.retired_at IS NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("service_place", schema=None) as batch_op:
        batch_op.drop_index("ix_service_place_latitude_longitude")
    op.drop_table("service_place")
