"""Service documents: the JSON of each service moves to its own table.

The search columns stay in a narrow `service` table that searches scan; the content and the
rendered documents (ORUK, list item, FHIR) move to `service_document`, copied across.

Revision ID: 820f82f1574a
Revises: 5de8544cdec0
Create Date: 2026-11-22 14:49:51.914646
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "820f82f1574a"
down_revision: str | None = "5de8544cdec0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DOCUMENTS = ("content", "document", "summary", "fhir_resource")


def upgrade() -> None:
    op.create_table(
        "service_document",
        sa.Column("service_id", sa.String(length=36), nullable=False),
        *(sa.Column(name, sa.Text(), nullable=False) for name in _DOCUMENTS),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["service.id"],
            name=op.f("fk_service_document_service_id_service"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("service_id", name=op.f("pk_service_document")),
    )
    op.execute(
        "INSERT INTO service_document (service_id, content, document, summary, fhir_resource) "
        "SELECT id, content, document, summary, fhir_resource FROM service"
    )
    with op.batch_alter_table("service", schema=None) as batch_op:
        for name in _DOCUMENTS:
            batch_op.drop_column(name)


def downgrade() -> None:
    with op.batch_alter_table("service", schema=None) as batch_op:
        for name in _DOCUMENTS:
            batch_op.add_column(sa.Column(name, sa.Text(), nullable=False, server_default=""))
    for name in _DOCUMENTS:
        op.execute(
            f"UPDATE service SET {name} = (SELECT {name} FROM service_document "  # noqa: S608
            "WHERE service_document.service_id = service.id)"
        )
    with op.batch_alter_table("service", schema=None) as batch_op:
        for name in _DOCUMENTS:
            batch_op.alter_column(name, server_default=None)
    op.drop_table("service_document")
