"""The outbox: one row per referral to raise, written in the same transaction as the response."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from screening_api.db import Base
from signpost_platform.db import UtcDateTime


class ReferralHandoff(Base):
    """A referral to raise in referral-api for a positive screen where the person wants help.

    `state` is pending (not yet delivered), sent (referral-api holds it as `referral_id`) or
    failing (delivery failed at least once; `last_error` says why; retried with backoff).
    """

    __tablename__ = "referral_handoff"

    response_id: Mapped[str] = mapped_column(
        ForeignKey("questionnaire_response.id", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int]
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    identifier_system: Mapped[str] = mapped_column(String(255))
    identifier_value: Mapped[str] = mapped_column(String(255))
    # The ServiceRequest to create, as sent (conditional create on its identifier).
    request: Mapped[str] = mapped_column(Text)
    referral_id: Mapped[str | None] = mapped_column(String(64))
    # Read back from referral-api after delivery, for the process metrics.
    referral_status: Mapped[str | None] = mapped_column(String(32))
    referral_accepted: Mapped[bool]
    referral_closed: Mapped[bool]
    status_checked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    __table_args__ = (
        Index("ix_referral_handoff_state_next_attempt_at", "state", "next_attempt_at"),
    )
