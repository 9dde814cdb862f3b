"""Consent tables: each Consent recorded, and each person's current decision derived from them.

A person's decision is that of their latest Consent (by dateTime, then when it was recorded):
sharing is `withdrawn` when that Consent is inactive (a consent given, then withdrawn) or denies
sharing (provision.type deny). `person_consent` holds the decision per person key, so the
places that honour it (linkage shown to other organisations, record-level exports) read one row.
"""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from referral_api.db import Base
from signpost_platform.db import UtcDateTime


class ConsentRecord(Base):
    """One Consent for information sharing, as served."""

    __tablename__ = "consent"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    version: Mapped[int]
    # The sender's identifier of the record (its first with a system and value), if any: a
    # create that repeats it returns the Consent recorded (retries never record it twice).
    identifier_system: Mapped[str | None] = mapped_column(String(255))
    identifier_value: Mapped[str | None] = mapped_column(String(255))
    # active | inactive | rejected | proposed | draft | entered-in-error (FHIR Consent.status)
    status: Mapped[str] = mapped_column(String(20))
    # The person (referral.person_key: the NHS number), and the referral it was recorded for.
    person_key: Mapped[str] = mapped_column(String(64), index=True)
    referral_id: Mapped[str | None] = mapped_column(
        ForeignKey("referral.id", ondelete="CASCADE"), index=True
    )
    # permit | deny (Consent.provision.type)
    provision_type: Mapped[str] = mapped_column(String(8))
    provision_start_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    provision_end_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # When the decision was made (Consent.dateTime), else when it was recorded.
    decided_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # The organisation that recorded it (Consent.organization by ODS code).
    organization_ods: Mapped[str] = mapped_column(String(10), index=True)
    withdrawn: Mapped[bool]
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_updated_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    resource: Mapped[str] = mapped_column(Text)

    __table_args__ = (
        Index("ix_consent_person_key_decided_at", "person_key", "decided_at"),
        UniqueConstraint("identifier_system", "identifier_value"),
    )


class PersonConsent(Base):
    """A person's current decision on sharing, from their latest Consent."""

    __tablename__ = "person_consent"

    person_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    withdrawn: Mapped[bool] = mapped_column(index=True)
    consent_id: Mapped[str] = mapped_column(ForeignKey("consent.id", ondelete="CASCADE"))
    decided_at: Mapped[datetime] = mapped_column(UtcDateTime)
