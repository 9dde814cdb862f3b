"""The location table."""

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from directory_api.db import Base
from signpost_platform.db import UtcDateTime


class Location(Base):
    """A place (or a virtual location); `document` is its ORUK object with addresses."""

    __tablename__ = "location"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    organization_id: Mapped[str | None] = mapped_column(ForeignKey("organization.id"), index=True)
    location_type: Mapped[str] = mapped_column(String(10))
    name: Mapped[str | None] = mapped_column(String(255))
    postcode: Mapped[str | None] = mapped_column(String(8))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    document: Mapped[str] = mapped_column(Text)
    fhir_resource: Mapped[str] = mapped_column(Text)
    version: Mapped[int]
    last_modified_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    retired_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # SHA-256 of the input last accepted: a repeated create or import is recognised, not re-applied.
    input_digest: Mapped[str] = mapped_column(String(64))

    __table_args__ = (Index("ix_location_latitude_longitude", "latitude", "longitude"),)
