"""Postcode districts: the centroid of each outward code's known postcodes, and its authorities.

A valid postcode missing from the lookup is placed at its district's centroid. Both tables are
rebuilt from postcode_centroid here and whenever the lookup is loaded.

Revision ID: 61113bc34439
Revises: c1941c48228c
Create Date: 2026-12-03 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "61113bc34439"
down_revision: str | None = "c1941c48228c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Stored postcodes are normalised ("E15 1DA"): the outward code precedes the last 4 characters.
_FILL_DISTRICTS = (
    "INSERT INTO postcode_district (district, latitude, longitude, postcode_count) "
    "SELECT substr(postcode, 1, length(postcode) - 4), avg(latitude), avg(longitude), count(*) "
    "FROM postcode_centroid GROUP BY substr(postcode, 1, length(postcode) - 4)"
)
_FILL_AUTHORITIES = (
    "INSERT INTO postcode_district_authority (district, local_authority_code) "
    "SELECT DISTINCT substr(postcode, 1, length(postcode) - 4), local_authority_code "
    "FROM postcode_centroid WHERE local_authority_code IS NOT NULL"
)


def upgrade() -> None:
    op.create_table(
        "postcode_district",
        sa.Column("district", sa.String(length=4), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("postcode_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("district", name=op.f("pk_postcode_district")),
    )
    op.create_table(
        "postcode_district_authority",
        sa.Column("district", sa.String(length=4), nullable=False),
        sa.Column("local_authority_code", sa.String(length=9), nullable=False),
        sa.PrimaryKeyConstraint(
            "district", "local_authority_code", name=op.f("pk_postcode_district_authority")
        ),
    )
    op.execute(_FILL_DISTRICTS)
    op.execute(_FILL_AUTHORITIES)


def downgrade() -> None:
    op.drop_table("postcode_district_authority")
    op.drop_table("postcode_district")
