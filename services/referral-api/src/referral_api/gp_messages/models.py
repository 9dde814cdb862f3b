"""The outbox of messages back to the referrer: one row per acceptance, decline or closure,
written in the same transaction as the lifecycle change it reports."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from referral_api.db import Base
from signpost_platform.db import UtcDateTime


class GpMessage(Base):
    """A BaRS-shaped message telling the referrer (and so the GP record) what became of a
    referral.

    `id` is the message's `Bundle.id`, derived from the referral, the event and its date: the
    same event never makes a second message, and every delivery of a message carries the same
    id, so the receiver can recognise a repeat. `state` is pending (not tried yet), sent,
    failing (the endpoint refused or could not be reached; retried with backoff) or
    undeliverable (no endpoint is configured for the requester; retried, so it goes once one
    is). `last_error` says why the last attempt failed.
    """

    __tablename__ = "gp_message"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    referral_id: Mapped[str] = mapped_column(
        ForeignKey("referral.id", ondelete="CASCADE"), index=True
    )
    # accepted | declined | closed
    event: Mapped[str] = mapped_column(String(16))
    # When the event happened (the acceptance, decline or closure date).
    event_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # The referrer the message goes to, and the receiving organisation (who may read it).
    requester_ods: Mapped[str] = mapped_column(String(10))
    receiver_ods: Mapped[str | None] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int]
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    # The endpoint the message was last sent to (or delivered to, once sent).
    endpoint: Mapped[str | None] = mapped_column(String(500))
    # The message Bundle, as sent on every attempt; emptied once delivered and past the retention
    # (`REFERRAL_GP_MESSAGE_SENT_RETENTION_DAYS`), the row kept so the event is never sent again.
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    __table_args__ = (
        Index("ix_gp_message_state_next_attempt_at", "state", "next_attempt_at"),
        Index("ix_gp_message_requester_ods_state", "requester_ods", "state"),
    )
