"""The change-feed table: one row per record, moved to the end of the feed on every change."""

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from directory_api.db import Base
from signpost_platform.db import UtcDateTime


class Change(Base):
    """The latest change of one record; `change_number` orders the feed and never repeats."""

    __tablename__ = "change"

    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    record_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    change_number: Mapped[int] = mapped_column(unique=True)
    state: Mapped[str] = mapped_column(String(10))  # updated | deleted
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_change_kind_change_number", "kind", "change_number"),)
