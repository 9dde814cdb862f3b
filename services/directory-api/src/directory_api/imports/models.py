"""The import-job table: progress and the error report of each bulk import."""

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from directory_api.db import Base
from signpost_platform.db import UtcDateTime


class ImportJob(Base):
    """One bulk import: counts so far and the errors found (JSON list).

    `updated_at` is the heartbeat, moved on with every committed batch: a `running` job whose
    heartbeat is older than the stale timeout has stopped (its process died) and reads as
    failed. `attempt` counts runs: a resumed job's old run, if it still lives, stops at its next
    batch instead of writing beside the new one.
    """

    __tablename__ = "import_job"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    status: Mapped[str] = mapped_column(String(12))  # running | completed | failed
    total_records: Mapped[int]
    processed_records: Mapped[int]
    imported_records: Mapped[int]
    failed_records: Mapped[int]
    errors: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(255))
    failure_reason: Mapped[str | None] = mapped_column(Text)
    attempt: Mapped[int] = mapped_column(Integer, server_default="1")
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
