"""Directory tables: services, organisations, locations, taxonomies, search facts, change feed.

On PostgreSQL, a trigram index (pg_trgm) serves text search on services.

Revision ID: feb5bcdf234d
Revises: a1f555418f55
Create Date: 2026-11-22 14:32:59.740186
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "feb5bcdf234d"
down_revision: str | None = "a1f555418f55"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "change",
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.Column("change_number", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("kind", "record_id", name=op.f("pk_change")),
        sa.UniqueConstraint("change_number", name=op.f("uq_change_change_number")),
    )
    with op.batch_alter_table("change", schema=None) as batch_op:
        batch_op.create_index(
            "ix_change_kind_change_number", ["kind", "change_number"], unique=False
        )

    op.create_table(
        "import_job",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("total_records", sa.Integer(), nullable=False),
        sa.Column("processed_records", sa.Integer(), nullable=False),
        sa.Column("imported_records", sa.Integer(), nullable=False),
        sa.Column("failed_records", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_job")),
    )
    op.create_table(
        "organization",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("fhir_resource", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("last_modified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("input_digest", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organization")),
    )
    with op.batch_alter_table("organization", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_organization_last_modified_at"), ["last_modified_at"], unique=False
        )

    op.create_table(
        "postcode_centroid",
        sa.Column("postcode", sa.String(length=8), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("lsoa_code", sa.String(length=9), nullable=True),
        sa.Column("local_authority_code", sa.String(length=9), nullable=True),
        sa.Column("local_authority_name", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("postcode", name=op.f("pk_postcode_centroid")),
    )
    op.create_table(
        "taxonomy",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("uri", sa.String(length=500), nullable=True),
        sa.Column("version", sa.String(length=50), nullable=True),
        sa.Column("last_modified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("input_digest", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_taxonomy")),
    )
    op.create_table(
        "location",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=True),
        sa.Column("location_type", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("postcode", sa.String(length=8), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("fhir_resource", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("last_modified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("input_digest", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_location_organization_id_organization"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_location")),
    )
    with op.batch_alter_table("location", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_location_last_modified_at"), ["last_modified_at"], unique=False
        )
        batch_op.create_index(
            "ix_location_latitude_longitude", ["latitude", "longitude"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_location_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "service",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("minimum_age", sa.Float(), nullable=True),
        sa.Column("maximum_age", sa.Float(), nullable=True),
        sa.Column("assured_on", sa.Date(), nullable=True),
        sa.Column("accepts_self_referral", sa.Boolean(), nullable=True),
        sa.Column("free_of_charge", sa.Boolean(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("fhir_resource", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_modified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("input_digest", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_service_organization_id_organization"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service")),
    )
    with op.batch_alter_table("service", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_service_last_modified_at"), ["last_modified_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_service_name"), ["name"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_service_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "taxonomy_term",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("taxonomy_id", sa.String(length=36), nullable=True),
        sa.Column("parent_id", sa.String(length=36), nullable=True),
        sa.Column("code", sa.String(length=255), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("last_modified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("input_digest", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["taxonomy_term.id"],
            name=op.f("fk_taxonomy_term_parent_id_taxonomy_term"),
        ),
        sa.ForeignKeyConstraint(
            ["taxonomy_id"], ["taxonomy.id"], name=op.f("fk_taxonomy_term_taxonomy_id_taxonomy")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_taxonomy_term")),
    )
    with op.batch_alter_table("taxonomy_term", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_taxonomy_term_code"), ["code"], unique=False)
        batch_op.create_index(batch_op.f("ix_taxonomy_term_parent_id"), ["parent_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_taxonomy_term_taxonomy_id"), ["taxonomy_id"], unique=False
        )

    op.create_table(
        "need_service_type",
        sa.Column("need_term_id", sa.String(length=36), nullable=False),
        sa.Column("service_type_term_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["need_term_id"],
            ["taxonomy_term.id"],
            name=op.f("fk_need_service_type_need_term_id_taxonomy_term"),
        ),
        sa.ForeignKeyConstraint(
            ["service_type_term_id"],
            ["taxonomy_term.id"],
            name=op.f("fk_need_service_type_service_type_term_id_taxonomy_term"),
        ),
        sa.PrimaryKeyConstraint(
            "need_term_id", "service_type_term_id", name=op.f("pk_need_service_type")
        ),
    )
    with op.batch_alter_table("need_service_type", schema=None) as batch_op:
        batch_op.create_index(
            "ix_need_service_type_service_type_term_id", ["service_type_term_id"], unique=False
        )

    op.create_table(
        "service_area_code",
        sa.Column("service_id", sa.String(length=36), nullable=False),
        sa.Column("area_code", sa.String(length=9), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["service.id"],
            name=op.f("fk_service_area_code_service_id_service"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("service_id", "area_code", name=op.f("pk_service_area_code")),
    )
    with op.batch_alter_table("service_area_code", schema=None) as batch_op:
        batch_op.create_index(
            "ix_service_area_code_code_service", ["area_code", "service_id"], unique=False
        )

    op.create_table(
        "service_at_location",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("service_id", sa.String(length=36), nullable=False),
        sa.Column("location_id", sa.String(length=36), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["location.id"],
            name=op.f("fk_service_at_location_location_id_location"),
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["service.id"],
            name=op.f("fk_service_at_location_service_id_service"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_at_location")),
    )
    with op.batch_alter_table("service_at_location", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_service_at_location_location_id"), ["location_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_service_at_location_service_id"), ["service_id"], unique=False
        )

    op.create_table(
        "service_attribute",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("service_id", sa.String(length=36), nullable=False),
        sa.Column("taxonomy_term_id", sa.String(length=36), nullable=False),
        sa.Column("link_type", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["service.id"],
            name=op.f("fk_service_attribute_service_id_service"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["taxonomy_term_id"],
            ["taxonomy_term.id"],
            name=op.f("fk_service_attribute_taxonomy_term_id_taxonomy_term"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_attribute")),
    )
    with op.batch_alter_table("service_attribute", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_service_attribute_service_id"), ["service_id"], unique=False
        )
        batch_op.create_index(
            "ix_service_attribute_term_service", ["taxonomy_term_id", "service_id"], unique=False
        )

    op.create_table(
        "service_delivery_mode",
        sa.Column("service_id", sa.String(length=36), nullable=False),
        sa.Column("delivery_mode", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["service.id"],
            name=op.f("fk_service_delivery_mode_service_id_service"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "service_id", "delivery_mode", name=op.f("pk_service_delivery_mode")
        ),
    )
    with op.batch_alter_table("service_delivery_mode", schema=None) as batch_op:
        batch_op.create_index(
            "ix_service_delivery_mode_mode_service", ["delivery_mode", "service_id"], unique=False
        )

    op.create_table(
        "service_language",
        sa.Column("service_id", sa.String(length=36), nullable=False),
        sa.Column("language_code", sa.String(length=3), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["service.id"],
            name=op.f("fk_service_language_service_id_service"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("service_id", "language_code", name=op.f("pk_service_language")),
    )
    with op.batch_alter_table("service_language", schema=None) as batch_op:
        batch_op.create_index(
            "ix_service_language_code_service", ["language_code", "service_id"], unique=False
        )

    op.create_table(
        "service_opening",
        sa.Column("service_id", sa.String(length=36), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("opens_minute", sa.Integer(), nullable=False),
        sa.Column("closes_minute", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["service.id"],
            name=op.f("fk_service_opening_service_id_service"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "service_id",
            "weekday",
            "opens_minute",
            "closes_minute",
            name=op.f("pk_service_opening"),
        ),
    )
    with op.batch_alter_table("service_opening", schema=None) as batch_op:
        batch_op.create_index(
            "ix_service_opening_weekday_service", ["weekday", "service_id"], unique=False
        )
    # Text search is LIKE '%word%' on both backends; on PostgreSQL a trigram index serves it.
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_index(
        "ix_service_search_text_trgm",
        "service",
        ["search_text"],
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
    )


def downgrade() -> None:
    op.drop_index("ix_service_search_text_trgm", table_name="service")
    with op.batch_alter_table("service_opening", schema=None) as batch_op:
        batch_op.drop_index("ix_service_opening_weekday_service")

    op.drop_table("service_opening")
    with op.batch_alter_table("service_language", schema=None) as batch_op:
        batch_op.drop_index("ix_service_language_code_service")

    op.drop_table("service_language")
    with op.batch_alter_table("service_delivery_mode", schema=None) as batch_op:
        batch_op.drop_index("ix_service_delivery_mode_mode_service")

    op.drop_table("service_delivery_mode")
    with op.batch_alter_table("service_attribute", schema=None) as batch_op:
        batch_op.drop_index("ix_service_attribute_term_service")
        batch_op.drop_index(batch_op.f("ix_service_attribute_service_id"))

    op.drop_table("service_attribute")
    with op.batch_alter_table("service_at_location", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_at_location_service_id"))
        batch_op.drop_index(batch_op.f("ix_service_at_location_location_id"))

    op.drop_table("service_at_location")
    with op.batch_alter_table("service_area_code", schema=None) as batch_op:
        batch_op.drop_index("ix_service_area_code_code_service")

    op.drop_table("service_area_code")
    with op.batch_alter_table("need_service_type", schema=None) as batch_op:
        batch_op.drop_index("ix_need_service_type_service_type_term_id")

    op.drop_table("need_service_type")
    with op.batch_alter_table("taxonomy_term", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_taxonomy_term_taxonomy_id"))
        batch_op.drop_index(batch_op.f("ix_taxonomy_term_parent_id"))
        batch_op.drop_index(batch_op.f("ix_taxonomy_term_code"))

    op.drop_table("taxonomy_term")
    with op.batch_alter_table("service", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_organization_id"))
        batch_op.drop_index(batch_op.f("ix_service_name"))
        batch_op.drop_index(batch_op.f("ix_service_last_modified_at"))

    op.drop_table("service")
    with op.batch_alter_table("location", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_location_organization_id"))
        batch_op.drop_index("ix_location_latitude_longitude")
        batch_op.drop_index(batch_op.f("ix_location_last_modified_at"))

    op.drop_table("location")
    op.drop_table("taxonomy")
    op.drop_table("postcode_centroid")
    with op.batch_alter_table("organization", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_organization_last_modified_at"))

    op.drop_table("organization")
    op.drop_table("import_job")
    with op.batch_alter_table("change", schema=None) as batch_op:
        batch_op.drop_index("ix_change_kind_change_number")

    op.drop_table("change")
