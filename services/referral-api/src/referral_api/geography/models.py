"""The postcode lookup tables: postcode to LSOA, practice to PCN, and what was loaded when."""

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from referral_api.db import Base
from signpost_platform.db import UtcDateTime


class PostcodeLsoa(Base):
    """One postcode of the ONS Postcode Directory and its LSOA."""

    __tablename__ = "postcode_lsoa"

    postcode: Mapped[str] = mapped_column(String(8), primary_key=True)  # normalised: E15 1DA
    lsoa_code: Mapped[str] = mapped_column(String(9))
    lsoa_vintage: Mapped[str] = mapped_column(String(4))
    local_authority_code: Mapped[str | None] = mapped_column(String(9))


class PracticePcn(Base):
    """A GP practice's primary care network (ODS ePCN membership)."""

    __tablename__ = "practice_pcn"

    practice_ods: Mapped[str] = mapped_column(String(10), primary_key=True)
    pcn_ods: Mapped[str] = mapped_column(String(10))


class LookupLoad(Base):
    """One load of a lookup table: which file, how many rows, and whether it was the sample."""

    __tablename__ = "lookup_load"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    lookup: Mapped[str] = mapped_column(String(16))  # postcode-lsoa | practice-pcn
    source: Mapped[str] = mapped_column(String(255))
    is_sample: Mapped[bool]
    row_count: Mapped[int]
    loaded_at: Mapped[datetime] = mapped_column(UtcDateTime)
