"""Bulk import: each record validated and saved on its own, progress committed as it goes.

A record that fails (invalid, or referring to something missing) changes nothing and is listed
in the error report with its position, id and the field at fault; the others are imported.
Records already imported with the same content are recognised and left untouched, so an export
can be imported again safely. An import takes at most `DIRECTORY_IMPORT_MAX_RECORDS` records; a
run that stops marks its job failed, and a job can be resumed from its last committed batch.
"""

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from directory_api.bodies import validate
from directory_api.curation import Outcome, WriteMode
from directory_api.imports.repository import ImportRepository, StoredImport
from directory_api.services.schemas import ServiceIn
from directory_api.services.service import save_service
from signpost_platform.bodies import load_json
from signpost_platform.db import database_unavailable
from signpost_platform.errors import (
    DATABASE_RETRY_AFTER_SECONDS,
    BadRequest,
    Conflict,
    Issue,
    NotFound,
    PayloadTooLarge,
    SignpostError,
)

logger = logging.getLogger("directory.imports")

BATCH = 50
# At most this many errors are kept in the report (the count is always complete).
MAX_REPORTED_ERRORS = 1000


@dataclass(frozen=True, slots=True)
class ImportRecord:
    position: int
    document: Any


def parse_export(body: bytes, content_type: str) -> list[ImportRecord]:
    """ORUK JSON (a service, a list of services, or a paginated envelope) or NDJSON."""
    if content_type in ("application/x-ndjson", "application/ndjson"):
        records = []
        for number, line in enumerate(body.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                records.append(ImportRecord(number, orjson.loads(line)))
            except orjson.JSONDecodeError as error:
                raise BadRequest(
                    f"line {number} is not valid JSON: {error}", issue_code="structure"
                ) from None
        return records
    document = load_json(body)
    if isinstance(document, dict) and isinstance(document.get("contents"), list):
        document = document["contents"]
    if isinstance(document, dict):
        document = [document]
    if not isinstance(document, list):
        raise BadRequest(
            "send a service, a list of services or an ORUK page of services", issue_code="structure"
        )
    return [ImportRecord(index, item) for index, item in enumerate(document, start=1)]


def check_size(records: list[ImportRecord], max_records: int) -> None:
    """Refuse an import of more than `max_records` records (413), before anything is written."""
    if len(records) > max_records:
        raise PayloadTooLarge(
            f"this export holds {len(records)} records; an import takes at most {max_records} "
            "(DIRECTORY_IMPORT_MAX_RECORDS): split the export into smaller files, or import it "
            "with `python -m directory_api.imports FILE --max-records N`",
            expression="records",
        )


async def run_import(
    sessionmaker: async_sessionmaker[AsyncSession],
    records: list[ImportRecord],
    created_by: str | None,
    progress: Callable[[StoredImport], None] | None = None,
    *,
    max_records: int,
) -> StoredImport:
    """Import `records`, committing every batch and the job's progress as it goes.

    A run that stops (the database went away, an unexpected error) marks its job `failed` with
    the reason and raises a 503 (database) or 500 naming the job, which `resume_import` can
    finish.
    """
    check_size(records, max_records)
    job_id = str(uuid.uuid4())
    now = datetime.now(UTC)
    async with sessionmaker() as session, session.begin():
        await ImportRepository(session).create(
            {
                "id": job_id,
                "status": "running",
                "total_records": len(records),
                "processed_records": 0,
                "imported_records": 0,
                "failed_records": 0,
                "errors": "[]",
                "created_by": created_by,
                "attempt": 1,
                "started_at": now,
                "updated_at": now,
            }
        )
    return await _run(sessionmaker, _Run(job_id, 1, records), progress)


async def resume_import(
    sessionmaker: async_sessionmaker[AsyncSession],
    job_id: str,
    records: list[ImportRecord],
    progress: Callable[[StoredImport], None] | None = None,
    *,
    max_records: int,
    stale_after_seconds: int,
) -> StoredImport:
    """Carry on a failed (or stale) import from its last committed batch, given the same
    export again; the records it already processed are not read twice."""
    check_size(records, max_records)
    now = datetime.now(UTC)
    async with sessionmaker() as session, session.begin():
        repository = ImportRepository(session)
        job = await repository.get(job_id)
        if job is None:
            raise NotFound(f"no import with id {job_id}", expression="resume")
        if job.status == "completed":
            raise Conflict(f"import {job_id} is already completed", expression="resume")
        if len(records) != job.total_records:
            raise Conflict(
                f"import {job_id} had {job.total_records} records and this export holds "
                f"{len(records)}: resume it with the same export",
                expression="resume",
            )
        stale_before = now - timedelta(seconds=stale_after_seconds)
        if not await repository.claim(job_id, job.attempt, stale_before, now):
            raise Conflict(
                f"import {job_id} is still running (its last batch was committed less than "
                f"{stale_after_seconds} seconds ago)",
                expression="resume",
            )
    run = _Run(
        job_id,
        job.attempt + 1,
        records,
        start=job.processed_records,
        imported=job.imported_records,
        failed=job.failed_records,
        errors=orjson.loads(job.errors),
    )
    return await _run(sessionmaker, run, progress)


@dataclass
class _Run:
    """One run of an import job: where it starts and what it has counted so far."""

    job_id: str
    attempt: int
    records: list[ImportRecord]
    start: int = 0
    imported: int = 0
    failed: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)


async def _run(
    sessionmaker: async_sessionmaker[AsyncSession],
    run: _Run,
    progress: Callable[[StoredImport], None] | None,
) -> StoredImport:
    records = run.records
    committed = run.start
    try:
        for start in range(run.start, len(records), BATCH):
            async with sessionmaker() as session, session.begin():
                for record in records[start : start + BATCH]:
                    outcome = await _import_one(session, record, run.errors)
                    if outcome is None:
                        run.failed += 1
                    elif outcome is not Outcome.UNCHANGED:
                        run.imported += 1
                await _save_progress(session, run, min(start + BATCH, len(records)))
            committed = min(start + BATCH, len(records))
            if progress is not None:
                progress(await _read(sessionmaker, run.job_id))
        if not records[run.start :]:
            async with sessionmaker() as session, session.begin():
                await _save_progress(session, run, committed)
    except SignpostError:
        raise
    except Exception as error:
        raise await _stopped(sessionmaker, run, committed, error) from error
    return await _read(sessionmaker, run.job_id)


async def _save_progress(session: AsyncSession, run: _Run, done: int) -> None:
    """Commit the counts with the batch; the heartbeat moves on. A run whose job was resumed
    by another (it was taken for stale) stops here, its batch rolled back."""
    now = datetime.now(UTC)
    finished = done == len(run.records)
    saved = await ImportRepository(session).update(
        run.job_id,
        run.attempt,
        {
            "processed_records": done,
            "imported_records": run.imported,
            "failed_records": run.failed,
            "errors": orjson.dumps(run.errors[:MAX_REPORTED_ERRORS]).decode(),
            "updated_at": now,
            **({"status": "completed", "finished_at": now} if finished else {}),
        },
    )
    if not saved:
        raise Conflict(
            f"import {run.job_id} was resumed by another run, which carries on from here",
            expression="resume",
        )


async def _stopped(
    sessionmaker: async_sessionmaker[AsyncSession], run: _Run, done: int, error: Exception
) -> SignpostError:
    """Mark the job failed with the reason (if the database lets us: otherwise it reads as
    failed once stale) and say how to finish it."""
    unavailable = database_unavailable(error)
    cause = getattr(error, "orig", None) or error
    detail = (str(cause).splitlines() or [""])[0][:200]
    reason = (
        f"{'database unavailable' if unavailable else 'stopped'} after {done} of "
        f"{len(run.records)} records: {type(cause).__name__}{': ' + detail if detail else ''}"
    )
    # Only the class: a driver's message may quote the record being written.
    logger.warning("import stopped", extra={"import_id": run.job_id, "error": type(cause).__name__})
    try:
        async with sessionmaker() as session, session.begin():
            await ImportRepository(session).update(
                run.job_id,
                run.attempt,
                {"status": "failed", "failure_reason": reason, "updated_at": datetime.now(UTC)},
            )
    except Exception:
        logger.warning("import not marked failed", extra={"import_id": run.job_id})
    message = (
        f"import {run.job_id} {reason}. GET /imports/{run.job_id} shows it; finish it with "
        f"POST /imports?resume={run.job_id} and the same export"
    )
    if unavailable:
        return SignpostError(
            503,
            [Issue("transient", message)],
            {"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
        )
    return SignpostError(500, [Issue("exception", message)])


async def _read(sessionmaker: async_sessionmaker[AsyncSession], job_id: str) -> StoredImport:
    async with sessionmaker() as session:
        job = await ImportRepository(session).get(job_id)
    assert job is not None
    return job


async def _import_one(
    session: AsyncSession, record: ImportRecord, errors: list[dict[str, Any]]
) -> Outcome | None:
    record_id = record.document.get("id") if isinstance(record.document, dict) else None
    savepoint = await session.begin_nested()
    try:
        if not isinstance(record.document, dict):
            raise BadRequest("a record must be a JSON object (an ORUK service)")
        payload = validate(record.document, ServiceIn)
        _, outcome = await save_service(session, payload, WriteMode.UPSERT)
    except IntegrityError:
        # Two records racing for one id (another import, a curator): report, keep going.
        await savepoint.rollback()
        errors.append(
            {
                "record": record.position,
                **({"id": record_id} if record_id else {}),
                "status": 409,
                "field": "id",
                "detail": "an id in this record was taken by another record meanwhile",
            }
        )
        return None
    except SignpostError as error:
        await savepoint.rollback()
        for issue in error.issues:
            errors.append(
                {
                    "record": record.position,
                    **({"id": record_id} if record_id else {}),
                    "status": error.status_code,
                    "field": (issue.expression or ["(record)"])[0],
                    "detail": issue.diagnostics,
                }
            )
        return None
    await savepoint.commit()
    return outcome


def report(job: StoredImport, base: str) -> dict[str, Any]:
    """The import job as the API shows it."""
    return {
        "id": job.id,
        "status": job.status,
        "total_records": job.total_records,
        "processed_records": job.processed_records,
        "imported_records": job.imported_records,
        "unchanged_records": job.processed_records - job.imported_records - job.failed_records,
        "failed_records": job.failed_records,
        "errors": orjson.loads(job.errors),
        **({"failure_reason": job.failure_reason} if job.failure_reason else {}),
        **(
            {"resume": f"POST {base}/imports?resume={job.id} with the same export"}
            if job.status == "failed"
            else {}
        ),
        "started_at": job.started_at.isoformat(),
        "updated_at": job.updated_at.isoformat(),
        **({"finished_at": job.finished_at.isoformat()} if job.finished_at else {}),
        "url": f"{base}/imports/{job.id}",
    }


async def read_import(session: AsyncSession, job_id: str, stale_after_seconds: int) -> StoredImport:
    """The job; one still `running` whose last batch is older than the stale timeout has
    stopped (its process died mid-way) and reads as failed, ready to be resumed."""
    job = await ImportRepository(session).get(job_id)
    if job is None:
        raise NotFound(f"no import with id {job_id}", expression="id")
    idle = datetime.now(UTC) - job.updated_at
    if job.status == "running" and idle > timedelta(seconds=stale_after_seconds):
        return replace(
            job,
            status="failed",
            failure_reason=f"stale: no batch committed for {int(idle.total_seconds())} seconds "
            f"(the limit is {stale_after_seconds}) after {job.processed_records} of "
            f"{job.total_records} records; the import stopped",
        )
    return job
