"""The person as at the referral: demographics and geography, normalised with native codes kept."""

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from referral_api.db import Base, owner_key
from signpost_platform.db import UtcDateTime


class ReferralPerson(Base):
    """The person referred, one row per referral, from the Patient of the referral's messages."""

    __tablename__ = "referral_person"

    referral_id: Mapped[str] = owner_key("referral.id")
    # The Patient's NHS number; None for a person the sender identified only locally.
    nhs_number: Mapped[str | None] = mapped_column(String(10), index=True)
    birth_year: Mapped[int | None]
    # Age at the referral date from the year of birth, in bands (see docs/lifecycle.md).
    age_band: Mapped[str | None] = mapped_column(String(8))
    # Normalised gender (the roll-up of the gender code lists) and the national codes.
    gender: Mapped[str | None] = mapped_column(String(16))
    stated_gender_code: Mapped[str | None] = mapped_column(String(2))
    gender_identity_code: Mapped[str | None] = mapped_column(String(2))
    gender_native_system: Mapped[str | None] = mapped_column(String(255))
    gender_native_code: Mapped[str | None] = mapped_column(String(64))
    # ETHNIC CATEGORY letter (A-S, Z, 99), its 5-group roll-up, and what the sender sent.
    ethnic_category: Mapped[str | None] = mapped_column(String(2))
    ethnic_group: Mapped[str | None] = mapped_column(String(32))
    ethnic_native_system: Mapped[str | None] = mapped_column(String(255))
    ethnic_native_code: Mapped[str | None] = mapped_column(String(64))
    postcode_district: Mapped[str | None] = mapped_column(String(4))
    lsoa_code: Mapped[str | None] = mapped_column(String(9), index=True)
    lsoa_vintage: Mapped[str | None] = mapped_column(String(4))
    # derived | postcode-not-in-lookup | district-only | invalid-postcode | no-postcode
    lsoa_status: Mapped[str] = mapped_column(String(24))
    practice_ods: Mapped[str | None] = mapped_column(String(10), index=True)
    pcn_ods: Mapped[str | None] = mapped_column(String(10))
    # The sender's timestamp and content hash of the Patient version held (out-of-order rule).
    as_of: Mapped[datetime] = mapped_column(UtcDateTime)
    content_hash: Mapped[str] = mapped_column(String(64))


class PersonIdentifier(Base):
    """A sender's own patient identifier (Rio, EMIS), and the person it identifies.

    `person_key` is the person's NHS number once one was seen with this identifier, else a
    `local-<uuid>` key shared by every referral filed under it (see `people.identity`).
    """

    __tablename__ = "person_identifier"

    identifier_system: Mapped[str] = mapped_column(String(255), primary_key=True)
    identifier_value: Mapped[str] = mapped_column(String(255), primary_key=True)
    person_key: Mapped[str] = mapped_column(String(64), index=True)
