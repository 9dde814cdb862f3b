"""Report tables: the lookups reports join (IMD by LSOA, list sizes) and the person pseudonyms."""

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from referral_api.db import Base
from signpost_platform.db import UtcDateTime


class LsoaImd(Base):
    """The Index of Multiple Deprivation decile of one LSOA (English Indices of Deprivation)."""

    __tablename__ = "lsoa_imd"

    lsoa_code: Mapped[str] = mapped_column(String(9), primary_key=True)
    # 1 is the most deprived tenth of LSOAs in England, 10 the least deprived.
    imd_decile: Mapped[int] = mapped_column(SmallInteger)
    imd_rank: Mapped[int | None]
    lsoa_vintage: Mapped[str] = mapped_column(String(4))


class ListSize(Base):
    """Registered patients of a practice or PCN in one age band and sex (the rate denominator).

    Practice rows carry their PCN; PCN rows are loaded as published or summed from practices.
    """

    __tablename__ = "list_size"

    area_type: Mapped[str] = mapped_column(String(8), primary_key=True)  # practice | pcn
    area_code: Mapped[str] = mapped_column(String(10), primary_key=True)
    age_band: Mapped[str] = mapped_column(String(8), primary_key=True)
    sex: Mapped[str] = mapped_column(String(8), primary_key=True)  # male | female
    population: Mapped[int]
    pcn_ods: Mapped[str | None] = mapped_column(String(10))
    extract_on: Mapped[date | None] = mapped_column(Date)


class ReportPerson(Base):
    """The keyed pseudonym of a referral's person: reports count people by it, never by NHS
    number. `referral_version` is the referral version it was keyed from."""

    __tablename__ = "report_person"

    referral_id: Mapped[str] = mapped_column(
        ForeignKey("referral.id", ondelete="CASCADE"), primary_key=True
    )
    person_key: Mapped[int] = mapped_column(BigInteger)
    referral_version: Mapped[int]


class PseudonymState(Base):
    """One row: which key the pseudonyms were made with, and how far referrals are keyed."""

    __tablename__ = "report_pseudonym_state"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    key_fingerprint: Mapped[str] = mapped_column(String(16))
    # Referrals last updated before this instant (less the overlap) have their pseudonym.
    keyed_through: Mapped[datetime | None] = mapped_column(UtcDateTime)
