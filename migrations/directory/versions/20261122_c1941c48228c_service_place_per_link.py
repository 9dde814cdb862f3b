"""Service places per link: one row for each service_at_location with a located place.

A service_at_location search then reads service_place alone. The table is rebuilt from the
service_at_location and location tables (live services only).

Revision ID: c1941c48228c
Revises: 820f82f1574a
Create Date: 2026-11-22 15:22:00.724151
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c1941c48228c"
down_revision: str | None = "820f82f1574a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LIVE_LINKS = (
    "FROM service_at_location AS link JOIN location ON location.id = link.location_id "
    "JOIN service ON service.id = link.service_id "
    "WHERE location.latitude IS NOT NULL AND location.longitude IS NOT NULL "
    "AND service.retired_at IS NULL"
)


def _coordinates() -> list[sa.Column[float]]:
    return [
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
    ]


def upgrade() -> None:
    op.drop_table("service_place")
    op.create_table(
        "service_place",
        sa.Column("service_at_location_id", sa.String(length=36), nullable=False),
        sa.Column("service_id", sa.String(length=36), nullable=False),
        sa.Column("location_id", sa.String(length=36), nullable=False),
        *_coordinates(),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["service.id"],
            name=op.f("fk_service_place_service_id_service"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("service_at_location_id", name=op.f("pk_service_place")),
    )
    with op.batch_alter_table("service_place", schema=None) as batch_op:
        batch_op.create_index(
            "ix_service_place_latitude_longitude",
            ["latitude", "longitude", "service_id", "service_at_location_id"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_service_place_service_id"), ["service_id"])
    op.execute(
        "INSERT INTO service_place "
        "(service_at_location_id, service_id, location_id, latitude, longitude) "
        "SELECT link.id, link.service_id, link.location_id, location.latitude, "
        f"location.longitude {_LIVE_LINKS}"
    )


def downgrade() -> None:
    op.drop_table("service_place")
    op.create_table(
        "service_place",
        sa.Column("service_id", sa.String(length=36), nullable=False),
        sa.Column("location_id", sa.String(length=36), nullable=False),
        *_coordinates(),
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
        f"SELECT DISTINCT link.service_id, link.location_id, location.latitude, "
        f"location.longitude {_LIVE_LINKS}"
    )
