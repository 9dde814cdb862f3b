"""The postcode lookup table (ONS Postcode Directory shape, the columns Signpost uses)."""

from sqlalchemy import Float, Integer, String
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


class PostcodeDistrict(Base):
    """One postcode district (outward code, `E15`): the centroid of its known postcodes.

    Rebuilt from `postcode_centroid` whenever the lookup is loaded; a postcode missing from the
    lookup (new, or the lookup is a sample) is placed at its district's centroid instead.
    """

    __tablename__ = "postcode_district"

    district: Mapped[str] = mapped_column(String(4), primary_key=True)
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    postcode_count: Mapped[int] = mapped_column(Integer)


class PostcodeDistrictAuthority(Base):
    """A local authority that some of a district's known postcodes lie in."""

    __tablename__ = "postcode_district_authority"

    district: Mapped[str] = mapped_column(String(4), primary_key=True)
    local_authority_code: Mapped[str] = mapped_column(String(9), primary_key=True)
