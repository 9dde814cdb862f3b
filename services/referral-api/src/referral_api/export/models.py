"""Export tables: the jobs (with their heartbeat and progress) and the NDJSON they wrote.

A job's files are kept in the database, in parts of at most `export.service.BATCH` lines
(`export_part`), so an export of any size is written and served a part at a time and needs no
directory: SQLite under `make run` works with no setup. The parts are deleted with their job:
at a cancel (`DELETE` of the job's status URL), or by the worker once the job finished longer
ago than `REFERRAL_EXPORT_RETENTION_HOURS`.
"""

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from referral_api.db import Base, owner_key
from signpost_platform.db import UtcDateTime


class ExportJob(Base):
    """One `$export` request: what it asked for, whose reach it ran with, and how far it got.

    `updated_at` is the heartbeat (`signpost_platform.jobs`): moved on with every part written,
    so a `running` job whose heartbeat is stale has stopped and the worker takes it over,
    carrying on after the last part written (`cursor_type`, `cursor_id`). `attempt` counts
    runs: an old run that still lives stops at its next part.
    """

    __tablename__ = "export_job"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # accepted | running | completed | failed
    status: Mapped[str] = mapped_column(String(12), index=True)
    # The kick-off URL as requested (the manifest's `request`).
    request: Mapped[str] = mapped_column(Text)
    # The Group exported (None: system level), e.g. `organization-F84001`.
    group_id: Mapped[str | None] = mapped_column(String(80))
    # The resource types exported, comma-separated, in the order they are written.
    resource_types: Mapped[str] = mapped_column(String(255))
    since: Mapped[datetime | None] = mapped_column(UtcDateTime)
    pseudonymised: Mapped[bool]
    # Who asked, and the organisation whose referrals they reach (None: every organisation).
    subject: Mapped[str] = mapped_column(String(255))
    organisation: Mapped[str | None] = mapped_column(String(10))
    # The manifest's transactionTime: the kick-off.
    transaction_at: Mapped[datetime] = mapped_column(UtcDateTime)
    total_resources: Mapped[int | None]
    written_resources: Mapped[int] = mapped_column(default=0)
    # Referrals, and people, left out because the person withdrew consent to share.
    withdrawn_referrals: Mapped[int] = mapped_column(default=0)
    withdrawn_people: Mapped[int] = mapped_column(default=0)
    # Where the run carries on: the resource type being written and the last id written.
    cursor_type: Mapped[str | None] = mapped_column(String(32))
    cursor_id: Mapped[str | None] = mapped_column(String(36))
    failure_reason: Mapped[str | None] = mapped_column(Text)
    attempt: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ExportPart(Base):
    """A run of NDJSON lines of one resource type of a job; a file is its parts in order."""

    __tablename__ = "export_part"

    job_id: Mapped[str] = owner_key("export_job.id")
    # The job's parts are numbered in the order written, across resource types.
    position: Mapped[int] = mapped_column(primary_key=True)
    resource_type: Mapped[str] = mapped_column(String(32))
    line_count: Mapped[int]
    body: Mapped[str] = mapped_column(Text)
