"""The location table."""

from sqlalchemy import Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from directory_api.db import Base, NestedColumns


class Location(NestedColumns, Base):
    """A place (or a virtual location); `document` is its ORUK object with addresses."""

    __tablename__ = "location"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    organization_id: Mapped[str | None] = mapped_column(ForeignKey("organization.id"), index=True)
    location_type: Mapped[str] = mapped_column(String(10))
    name: Mapped[str | None] = mapped_column(String(255))
    postcode: Mapped[str | None] = mapped_column(String(8))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)

    __table_args__ = (Index("ix_location_latitude_longitude", "latitude", "longitude"),)
