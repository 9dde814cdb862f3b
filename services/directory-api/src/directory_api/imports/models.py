"""The import-job table: progress and the error report of each bulk import."""

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from directory_api.db import Base
from signpost_platform.db import UtcDateTime


class ImportJob(Base):
    """One bulk import: counts so far and the errors found (JSON list)."""

    __tablename__ = "import_job"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    status: Mapped[str] = mapped_column(String(12))  # running | completed | failed
    total_records: Mapped[int]
    processed_records: Mapped[int]
    imported_records: Mapped[int]
    failed_records: Mapped[int]
    errors: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(255))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
