"""Import runs: how far an import of one file got, so a killed import resumes where it stopped."""

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from referral_api.db import Base
from signpost_platform.db import UtcDateTime


class ImportRun(Base):
    """One history file (by content hash) and the number of rows already committed."""

    __tablename__ = "import_run"

    file_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    file_name: Mapped[str] = mapped_column(String(255))
    file_format: Mapped[str] = mapped_column(String(8))
    rows_done: Mapped[int]
    rows_failed: Mapped[int]
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
