"""Links between referrals of one person, stored in both directions."""

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from referral_api.db import Base, owner_key


class ReferralLink(Base):
    """`referral_id` is linked to `linked_referral_id` (a row exists for each direction).

    link_type: `concurrent-other-role` (both open at once for different roles),
    `re-referral-of` (this referral came after the other, same role, closed) or
    `re-referred-as` (the other way round).
    """

    __tablename__ = "referral_link"

    referral_id: Mapped[str] = owner_key("referral.id")
    linked_referral_id: Mapped[str] = owner_key("referral.id")
    link_type: Mapped[str] = mapped_column(String(24))
    # The person both referrals belong to (referral.person_key).
    person_key: Mapped[str] = mapped_column(String(64), index=True)
