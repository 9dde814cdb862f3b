"""The ORM base of directory-api's own database (every table is registered in `models.py`)."""

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from signpost_platform.db import UtcDateTime, service_metadata


class Base(DeclarativeBase):
    metadata = service_metadata()


class NestedColumns:
    """The columns every record services nest has (organisations, locations), after its own:
    its ORUK `document` and FHIR resource as rendered, its version and last change, when it was
    retired, and the SHA-256 of the input last accepted (a repeated create or import is
    recognised, not re-applied)."""

    document: Mapped[str] = mapped_column(Text, sort_order=1)
    fhir_resource: Mapped[str] = mapped_column(Text, sort_order=1)
    version: Mapped[int] = mapped_column(sort_order=1)
    last_modified_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True, sort_order=1)
    retired_at: Mapped[datetime | None] = mapped_column(UtcDateTime, sort_order=1)
    input_digest: Mapped[str] = mapped_column(String(64), sort_order=1)
