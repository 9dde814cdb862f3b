"""Referral tables: searchable columns, a row per reason and identifier, and the canonical JSON."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from referral_api.db import Base, owner_key
from signpost_platform.db import UtcDateTime


class Referral(Base):
    """One referral (a ServiceRequest) to a personalised-care role."""

    __tablename__ = "referral"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    version: Mapped[int]
    status: Mapped[str] = mapped_column(String(20))
    intent: Mapped[str] = mapped_column(String(20))
    # The NHS number the referral names; None for a person the sender identified only by its
    # own patient identifier (kept with a no-nhs-number data gap).
    nhs_number: Mapped[str | None] = mapped_column(String(10), index=True)
    # Who the referral is for: linkage, search and report pseudonyms go by it. The NHS number,
    # or `local-<uuid>` for a person known only by local identifiers (people.identity).
    person_key: Mapped[str] = mapped_column(String(64), index=True)
    requester_ods: Mapped[str] = mapped_column(String(10), index=True)
    # The receiving organisation (ServiceRequest.performer by ODS code), when named.
    receiver_ods: Mapped[str | None] = mapped_column(String(10), index=True)
    received_by_role: Mapped[str] = mapped_column(String(64))
    # ServiceRequest.priority (routine, urgent, asap, stat), when given: a receiving team
    # searches its urgent referrals (screening raises urgent ones for safety concerns).
    priority: Mapped[str | None] = mapped_column(String(8))
    source_of_referral_system: Mapped[str] = mapped_column(String(255))
    source_of_referral_code: Mapped[str] = mapped_column(String(64))
    # The roll-up shared by the SNOMED, local and MHSDS source codes (the normalised source).
    source_of_referral_group: Mapped[str | None] = mapped_column(String(32))
    # Where the referral came from: api (REST), emis, rio, or import (the CSV template).
    source_system: Mapped[str] = mapped_column(String(16), default="api", server_default="api")
    # The sender's timestamp of the ServiceRequest content held; older updates do not replace it.
    source_updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    authored_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_updated_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    # The ServiceRequest exactly as served, id and meta included.
    resource: Mapped[str] = mapped_column(Text)

    reasons: Mapped[list["ReferralReason"]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="ReferralReason.rank"
    )
    identifiers: Mapped[list["ReferralIdentifier"]] = relationship(
        lazy="raise", cascade="all, delete-orphan"
    )

    __table_args__ = (
        Index("ix_referral_received_by_role_authored_at", "received_by_role", "authored_at"),
        Index("ix_referral_status_authored_at", "status", "authored_at"),
    )


class ReferralReason(Base):
    """One coded reason of a referral; rank 1 is the first reason the referrer gave."""

    __tablename__ = "referral_reason"

    referral_id: Mapped[str] = owner_key("referral.id")
    rank: Mapped[int] = mapped_column(primary_key=True)
    reason_system: Mapped[str] = mapped_column(String(255))
    reason_code: Mapped[str] = mapped_column(String(64))
    reason_text: Mapped[str | None] = mapped_column(Text)
    # The reason bucket (housing, finance, ...) shared with the support-offered list.
    reason_group: Mapped[str | None] = mapped_column(String(32))

    __table_args__ = (
        Index("ix_referral_reason_code_system", "reason_code", "reason_system", "referral_id"),
    )


class ReferralIdentifier(Base):
    """A business identifier of a referral; unique across referrals (conditional create)."""

    __tablename__ = "referral_identifier"

    identifier_system: Mapped[str] = mapped_column(String(255), primary_key=True)
    identifier_value: Mapped[str] = mapped_column(String(255), primary_key=True)
    referral_id: Mapped[str] = mapped_column(
        ForeignKey("referral.id", ondelete="CASCADE"), index=True
    )
