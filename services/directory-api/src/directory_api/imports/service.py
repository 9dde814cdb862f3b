"""Bulk import: each record validated and saved on its own, progress committed as it goes.

A record that fails (invalid, or referring to something missing) changes nothing and is listed
in the error report with its position, id and the field at fault; the others are imported.
Records already imported with the same content are recognised and left untouched, so an export
can be imported again safely.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from directory_api.bodies import validate
from directory_api.curation import Outcome, WriteMode
from directory_api.imports.repository import ImportRepository, StoredImport
from directory_api.services.schemas import ServiceIn
from directory_api.services.service import save_service
from signpost_platform.errors import BadRequest, NotFound, SignpostError

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
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise BadRequest(f"the body is not valid JSON: {error}", issue_code="structure") from None
    if isinstance(document, dict) and isinstance(document.get("contents"), list):
        document = document["contents"]
    if isinstance(document, dict):
        document = [document]
    if not isinstance(document, list):
        raise BadRequest(
            "send a service, a list of services or an ORUK page of services", issue_code="structure"
        )
    return [ImportRecord(index, item) for index, item in enumerate(document, start=1)]


async def run_import(
    sessionmaker: async_sessionmaker[AsyncSession],
    records: list[ImportRecord],
    created_by: str | None,
    progress: Callable[[StoredImport], None] | None = None,
) -> StoredImport:
    """Import `records`, committing every batch and the job's progress as it goes."""
    job_id = str(uuid.uuid4())
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
                "started_at": datetime.now(UTC),
            }
        )
    errors: list[dict[str, Any]] = []
    imported = unchanged = failed = 0
    for start in range(0, len(records), BATCH):
        batch = records[start : start + BATCH]
        async with sessionmaker() as session, session.begin():
            for record in batch:
                outcome = await _import_one(session, record, errors)
                if outcome is None:
                    failed += 1
                elif outcome is Outcome.UNCHANGED:
                    unchanged += 1
                else:
                    imported += 1
            done = min(start + BATCH, len(records))
            await ImportRepository(session).update(
                job_id,
                {
                    "processed_records": done,
                    "imported_records": imported,
                    "failed_records": failed,
                    "errors": orjson.dumps(errors[:MAX_REPORTED_ERRORS]).decode(),
                    **(
                        {"status": "completed", "finished_at": datetime.now(UTC)}
                        if done == len(records)
                        else {}
                    ),
                },
            )
        if progress is not None:
            async with sessionmaker() as session:
                job = await ImportRepository(session).get(job_id)
            assert job is not None
            progress(job)
    if not records:
        async with sessionmaker() as session, session.begin():
            await ImportRepository(session).update(
                job_id, {"status": "completed", "finished_at": datetime.now(UTC)}
            )
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
        "started_at": job.started_at.isoformat(),
        **({"finished_at": job.finished_at.isoformat()} if job.finished_at else {}),
        "url": f"{base}/imports/{job.id}",
    }


async def read_import(session: AsyncSession, job_id: str) -> StoredImport:
    job = await ImportRepository(session).get(job_id)
    if job is None:
        raise NotFound(f"no import with id {job_id}", expression="id")
    return job
