"""The postcode lookup table (ONS Postcode Directory shape, the columns Signpost uses)."""

from sqlalchemy import Float, String
from sqlalchemy.orm import Mapped, mapped_column

from directory_api.db import Base


class PostcodeCentroid(Base):
    """One full postcode: its centroid and the areas it lies in."""

    __tablename__ = "postcode_centroid"

    postcode: Mapped[str] = mapped_column(String(8), primary_key=True)
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    lsoa_code: Mapped[str | None] = mapped_column(String(9))
    local_authority_code: Mapped[str | None] = mapped_column(String(9))
    local_authority_name: Mapped[str | None] = mapped_column(String(100))
