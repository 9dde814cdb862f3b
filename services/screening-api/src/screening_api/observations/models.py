"""The observation table: searchable columns and the canonical JSON."""

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from screening_api.db import Base
from signpost_platform.db import UtcDateTime


class ObservationRecord(Base):
    """One Observation: a question and its answer, extracted from a completed response."""

    __tablename__ = "observation"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    response_id: Mapped[str] = mapped_column(
        ForeignKey("questionnaire_response.id", ondelete="CASCADE"), index=True
    )
    link_id: Mapped[str] = mapped_column(String(255))
    nhs_number: Mapped[str] = mapped_column(String(10), index=True)
    code_system: Mapped[str] = mapped_column(String(255))
    code: Mapped[str] = mapped_column(String(64))
    domain_code: Mapped[str | None] = mapped_column(String(64))
    is_positive: Mapped[bool]
    effective_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    resource: Mapped[str] = mapped_column(Text)
