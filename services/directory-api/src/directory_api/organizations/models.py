"""The organisation table."""

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from directory_api.db import Base
from signpost_platform.db import UtcDateTime


class Organization(Base):
    """An organisation; `document` is its ORUK object (identifiers included)."""

    __tablename__ = "organization"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    search_text: Mapped[str] = mapped_column(Text)
    document: Mapped[str] = mapped_column(Text)
    fhir_resource: Mapped[str] = mapped_column(Text)
    version: Mapped[int]
    last_modified_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    retired_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # SHA-256 of the input last accepted: a repeated create or import is recognised, not re-applied.
    input_digest: Mapped[str] = mapped_column(String(64))
