"""The invitation table: who was invited to which questionnaire, by which clinic, and when."""

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from screening_api.db import Base
from signpost_platform.db import UtcDateTime


class InvitationRecord(Base):
    """One invitation (a Task asking the person to complete a questionnaire)."""

    __tablename__ = "screening_invitation"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    nhs_number: Mapped[str] = mapped_column(String(10), index=True)
    clinic_ods: Mapped[str] = mapped_column(String(10))
    pathway: Mapped[str | None] = mapped_column(String(64))
    questionnaire_url: Mapped[str] = mapped_column(String(255))
    questionnaire_version: Mapped[str] = mapped_column(String(64))
    invited_at: Mapped[datetime] = mapped_column(UtcDateTime)
    resource: Mapped[str] = mapped_column(Text)

    __table_args__ = (
        Index("ix_screening_invitation_invited_at_clinic_ods", "invited_at", "clinic_ods"),
    )
