"""Every message processed (for idempotency) and the messages held for a referral not yet seen."""

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from referral_api.db import Base, owner_key
from signpost_platform.db import UtcDateTime


class ProcessedMessage(Base):
    """One message, by Bundle id: its payload hash and the response it was given."""

    __tablename__ = "processed_message"

    bundle_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    header_id: Mapped[str | None] = mapped_column(String(64))
    payload_hash: Mapped[str] = mapped_column(String(64))
    event: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(8))
    source_system: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(8))  # message | import
    referral_id: Mapped[str | None] = mapped_column(String(36), index=True)
    outcome: Mapped[str] = mapped_column(String(16))  # applied | held | rejected | expired
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    response_status: Mapped[int]
    response: Mapped[str] = mapped_column(Text)


class HeldMessage(Base):
    """An update for a referral not yet received, applied when the referral arrives (by message
    or REST) or expired after `REFERRAL_HELD_MESSAGE_RETENTION_DAYS` (`messages.expire`)."""

    __tablename__ = "held_message"

    bundle_id: Mapped[str] = owner_key("processed_message.bundle_id")
    identifier_system: Mapped[str] = mapped_column(String(255))
    identifier_value: Mapped[str] = mapped_column(String(255))
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # The message reduced to what the dataset keeps (`messages.held.minimise`).
    body: Mapped[str] = mapped_column(Text)
    # What applying it needs that the reduced body no longer carries: the data gaps found in the
    # message as sent, the Patient's content hash and the geography derived from its postcode.
    # NULL for messages held before bodies were reduced this far.
    derived: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_held_message_identifier", "identifier_system", "identifier_value"),)
