"""Response tables: searchable and reported columns, one row per answer, and the canonical JSON."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from screening_api.db import Base
from signpost_platform.db import UtcDateTime


class ResponseRecord(Base):
    """One QuestionnaireResponse: a draft or a completed screen."""

    __tablename__ = "questionnaire_response"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    version: Mapped[int]
    status: Mapped[str] = mapped_column(String(20))
    questionnaire_url: Mapped[str] = mapped_column(String(255))
    questionnaire_version: Mapped[str] = mapped_column(String(64))
    nhs_number: Mapped[str] = mapped_column(String(10), index=True)
    clinic_ods: Mapped[str] = mapped_column(String(10))
    pathway: Mapped[str | None] = mapped_column(String(64))
    identifier_system: Mapped[str | None] = mapped_column(String(255))
    identifier_value: Mapped[str | None] = mapped_column(String(255))
    authored_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    screen_positive: Mapped[bool | None]
    wants_help: Mapped[bool | None]
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # The QuestionnaireResponse exactly as served, id and meta included (no outcome).
    resource: Mapped[str] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("identifier_system", "identifier_value"),
        Index("ix_questionnaire_response_completed_at_clinic_ods", "completed_at", "clinic_ods"),
    )


class ResponseAnswerRecord(Base):
    """One answer of a completed response, for item-level reporting."""

    __tablename__ = "response_answer"

    response_id: Mapped[str] = mapped_column(
        ForeignKey("questionnaire_response.id", ondelete="CASCADE"), primary_key=True
    )
    link_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    position: Mapped[int] = mapped_column(primary_key=True)
    answer_system: Mapped[str | None] = mapped_column(String(255))
    answer_code: Mapped[str | None] = mapped_column(String(64))
    # A flag answer of a risk item; "I don't want to answer" is never one.
    is_flag: Mapped[bool]
    is_declined: Mapped[bool]
    domain: Mapped[str | None] = mapped_column(String(64))
