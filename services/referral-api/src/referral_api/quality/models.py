"""The data gaps of each referral, as of its latest content."""

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from referral_api.db import Base, owner_key


class ReferralGap(Base):
    """One gap (signpost_schemas.fhir.gaps.Gap) in the content a referral holds now.

    Replaced whenever the referral's content is replaced, so the rows describe what Signpost
    holds, not every message that ever arrived. Sender, source system and month come from the
    referral row.
    """

    __tablename__ = "referral_gap"

    referral_id: Mapped[str] = owner_key("referral.id")
    position: Mapped[int] = mapped_column(primary_key=True)
    # A GapKind value: not-recorded, unmapped-code, uncoded-text, no-nhs-number, ...
    kind: Mapped[str] = mapped_column(String(32))
    # The FHIRPath of the element, without list indexes (ServiceRequest.reasonCode).
    element: Mapped[str] = mapped_column(String(255))
    # For unmapped codes: system|code.
    code: Mapped[str | None] = mapped_column(String(320))

    __table_args__ = (Index("ix_referral_gap_kind_element", "kind", "element"),)
