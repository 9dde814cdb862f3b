"""The care and support plan of a referral: the served CarePlan and its searchable columns.

One plan per referral (`referral_id` is unique). Only the current version is kept, as for
referrals. Goals and actions stay in the served JSON; what is searched or listed is a column:
the plan's status, its period, when it was created, when its next review is due (and why) and
the worker who wrote it, by staff identifier.
"""

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from referral_api.db import Base
from signpost_platform.db import UtcDateTime


class CarePlan(Base):
    """A referral's care and support plan, as last written."""

    __tablename__ = "care_plan"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    referral_id: Mapped[str] = mapped_column(
        ForeignKey("referral.id", ondelete="CASCADE"), unique=True
    )
    version: Mapped[int]
    status: Mapped[str] = mapped_column(String(20))
    # CarePlan.created, or when the plan was first stored if the sender gave none.
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    period_start_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    period_end_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    review_due_on: Mapped[date] = mapped_column(Date)
    # next-review | last-review | created: what review_due_on was derived from.
    review_basis: Mapped[str] = mapped_column(String(16))
    author_system: Mapped[str | None] = mapped_column(String(255))
    author_value: Mapped[str | None] = mapped_column(String(255))
    author_role: Mapped[str | None] = mapped_column(String(64))
    last_updated_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    resource: Mapped[str] = mapped_column(Text)

    __table_args__ = (
        Index("ix_care_plan_review_due", "review_due_on", "status"),
        Index("ix_care_plan_author", "author_value", "author_system"),
    )
