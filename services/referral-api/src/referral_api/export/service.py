"""Bulk export (FHIR Bulk Data Access IG v2): kick-off, status and manifest, files, cancel, and
the run that writes the files.

A kick-off records a job (`accepted`) and answers at once; the export worker
(`export.worker`) runs it in the background, writing each resource type as NDJSON in parts of
`REFERRAL_EXPORT_BATCH_SIZE` lines, one transaction per part that also moves the job's cursor,
progress and heartbeat on: memory holds one part whatever the export's size, and a run that
stops (the process died) is taken over after `REFERRAL_EXPORT_STALE_SECONDS` from its last part.

What a job exports: the referrals the caller's organisation sent or received (every referral
with `referral:all-organisations`), narrowed to a Group (`organization-<ODS>`: the referrals that
organisation received; `role-<code>`: the referrals to that role), their Tasks, contacts,
assessments and Consents, changed after `_since`. The people who withdrew consent to share are
left out, and the manifest says how many (`extension.withdrawnConsent`).

Pseudonymised (`_pseudonymise=true`, and always for a caller without
`referral:export-identifiable`): the person is named by their pseudonym (system
`PERSON_PSEUDONYM`: the keyed HMAC of the person key, the one reports count people by), and
business identifiers, narrative and free text are left out, and contained resources but coded
Goals (a care plan's, kept pseudonymised).
"""

import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from referral_api.export.repository import (
    ExportedRow,
    ExportRepository,
    Selection,
    StoredExport,
)
from referral_api.export.search import ExportRequest, Group
from referral_api.export.sources import BY_NAME, ExportSource, files_of
from referral_api.referrals.access import Reach
from referral_api.rendering import service_request as rendering
from referral_api.reports.facts import person_key as pseudonym_of
from signpost_platform.auth import Caller
from signpost_platform.errors import Issue, NotFound, SignpostError
from signpost_platform.fhir.responses import instant
from signpost_schemas import systems

logger = logging.getLogger("referral.export")

EXPORT_SCOPE = "referral:export"
IDENTIFIABLE_SCOPE = "referral:export-identifiable"


def must_pseudonymise(caller: Caller, asked: bool) -> bool:
    """Whether the caller's export is pseudonymised: always, unless the caller holds
    referral:export-identifiable and did not ask for it."""
    return asked or not caller.has(IDENTIFIABLE_SCOPE)


async def kick_off(
    session: AsyncSession,
    caller: Caller,
    organisation: str | None,
    request_url: str,
    asked: ExportRequest,
    group: Group | None,
    now: datetime,
) -> str:
    """Record the job; the worker runs it. Returns its id."""
    job_id = str(uuid.uuid4())
    await ExportRepository(session).create(
        {
            "id": job_id,
            "status": "accepted",
            "request": request_url,
            "group_id": group.id if group else None,
            "resource_types": ",".join(asked.resource_types),
            "since": asked.since,
            "pseudonymised": must_pseudonymise(caller, asked.pseudonymise),
            "subject": caller.subject,
            "organisation": organisation,
            "transaction_at": now,
            "written_resources": 0,
            "withdrawn_referrals": 0,
            "withdrawn_people": 0,
            "attempt": 0,
            "created_at": now,
            "updated_at": now,
        }
    )
    return job_id


async def owned_job(session: AsyncSession, job_id: str, caller: Caller) -> StoredExport:
    """The job, if the caller is who kicked it off: the same subject, with the same reach, and
    allowed an identifiable export if it is one (anyone else gets 404)."""
    job = await ExportRepository(session).get(job_id)
    if (
        job is None
        or job.subject != caller.subject
        or job.organisation != Reach.of(caller).organisation
        or must_pseudonymise(caller, job.pseudonymised) != job.pseudonymised
    ):
        raise NotFound(f"no export {job_id}", expression="id")
    return job


@dataclass(frozen=True, slots=True)
class Status:
    """What a status request answers: progress (202), the manifest (200) or the failure."""

    progress: str | None = None
    manifest: dict[str, Any] | None = None


async def status(session: AsyncSession, job_id: str, caller: Caller, base: str) -> Status:
    job = await owned_job(session, job_id, caller)
    if job.status == "failed":
        raise SignpostError(
            500, [Issue("exception", f"export {job_id} failed: {job.failure_reason}")]
        )
    if job.status != "completed":
        return Status(progress=progress(job))
    counts = await ExportRepository(session).line_counts(job_id)
    output = [
        {
            "type": source.resource_type,
            "url": f"{base}/fhir/$export-file/{job_id}/{source.name}",
            "count": counts[source.name],
        }
        for source in files_of(job.resource_types.split(","))
        if counts.get(source.name)
    ]
    manifest = {
        "transactionTime": instant(job.transaction_at),
        "request": job.request,
        "requiresAccessToken": True,
        "output": output,
        "error": [],
        "extension": {
            "pseudonymised": job.pseudonymised,
            "withdrawnConsent": {
                "referrals": job.withdrawn_referrals,
                "people": job.withdrawn_people,
            },
        },
    }
    return Status(manifest=manifest)


def progress(job: StoredExport) -> str:
    """The X-Progress of a job not finished yet."""
    if job.status == "accepted" or job.total_resources is None:
        return "waiting to start"
    # Resources written after the count was taken can carry the tally past it.
    done = min(job.written_resources, job.total_resources)
    percent = 100 * done // job.total_resources if job.total_resources else 100
    return f"{job.written_resources} of {job.total_resources} resources written ({percent}%)" + (
        f", writing {job.cursor_type}" if job.cursor_type else ""
    )


async def file_parts(session: AsyncSession, job_id: str, file: str, caller: Caller) -> list[int]:
    """The positions of a completed job's parts of one file (404 if it has no such file)."""
    job = await owned_job(session, job_id, caller)
    names = [source.name for source in files_of(job.resource_types.split(","))]
    if job.status != "completed" or file not in names:
        raise NotFound(f"export {job_id} has no {file} file", expression="file")
    return await ExportRepository(session).part_positions(job_id, file)


async def stream_file(
    sessionmaker: async_sessionmaker[AsyncSession], job_id: str, positions: list[int]
) -> AsyncIterator[bytes]:
    """The file, a part at a time: each part is read in its own short session."""
    for position in positions:
        async with sessionmaker() as session:
            body = await ExportRepository(session).part_body(job_id, position)
        if body is None:  # cancelled while being read
            return
        yield body.encode()


async def cancel(session: AsyncSession, job_id: str, caller: Caller) -> None:
    """Delete the job and its files; a run in progress stops at its next part."""
    await owned_job(session, job_id, caller)
    await ExportRepository(session).delete(job_id)


# The run ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RunSettings:
    batch_size: int
    stale_after: timedelta
    pseudonym_key: SecretStr
    retention: timedelta


async def expire(
    sessionmaker: async_sessionmaker[AsyncSession], now: datetime, retention: timedelta
) -> int:
    """Delete the jobs, and their files, finished longer ago than `retention`."""
    async with sessionmaker() as session, session.begin():
        return await ExportRepository(session).delete_finished_before(now - retention)


async def claim_next(
    sessionmaker: async_sessionmaker[AsyncSession], now: datetime, stale_after: timedelta
) -> tuple[str, int] | None:
    """Claim the oldest job waiting (or stopped): (id, the run's attempt), or None."""
    async with sessionmaker() as session, session.begin():
        repository = ExportRepository(session)
        for job_id, attempt in await repository.claimable(now - stale_after):
            if await repository.claim(job_id, attempt, now - stale_after, now):
                return job_id, attempt + 1
    return None


class _TakenOver(Exception):
    """The job was cancelled, or another run took it over: this run stops."""


async def run_job(
    sessionmaker: async_sessionmaker[AsyncSession],
    job_id: str,
    attempt: int,
    settings: RunSettings,
    clock: Any = lambda: datetime.now(UTC),
) -> None:
    """Write the job's files from where its last run stopped; mark it completed, or failed."""
    try:
        await _run(sessionmaker, job_id, attempt, settings, clock)
    except _TakenOver:
        logger.info("export run stopped: cancelled or taken over", extra={"export_id": job_id})
    except Exception as error:
        # Only the class: a driver's message may quote a resource.
        logger.warning("export failed", extra={"export_id": job_id, "error": type(error).__name__})
        async with sessionmaker() as session, session.begin():
            await ExportRepository(session).update(
                job_id,
                attempt,
                {
                    "status": "failed",
                    "failure_reason": f"{type(error).__name__} while writing the files",
                    "updated_at": clock(),
                    "finished_at": clock(),
                },
            )


async def _run(
    sessionmaker: async_sessionmaker[AsyncSession],
    job_id: str,
    attempt: int,
    settings: RunSettings,
    clock: Any,
) -> None:
    async with sessionmaker() as session:
        job = await ExportRepository(session).get(job_id)
    if job is None:
        raise _TakenOver
    selection = await _selection(job)
    types = [source.name for source in files_of(job.resource_types.split(","))]
    if job.total_resources is None:
        async with sessionmaker() as session, session.begin():
            repository = ExportRepository(session)
            total = sum([await repository.count(BY_NAME[t], selection) for t in types])
            referrals, people = await repository.withdrawn(BY_NAME["ServiceRequest"], selection)
            await _save(
                repository,
                job_id,
                attempt,
                {
                    "total_resources": total,
                    "withdrawn_referrals": referrals,
                    "withdrawn_people": people,
                    "cursor_type": types[0],
                    "updated_at": clock(),
                },
            )
        job = await _reread(sessionmaker, job_id)
    start = types.index(job.cursor_type) if job.cursor_type in types else len(types)
    after, written = job.cursor_id, job.written_resources
    for position, resource_type in enumerate(types[start:], start=start):
        source = BY_NAME[resource_type]
        following = types[position + 1] if position + 1 < len(types) else None
        while True:
            async with sessionmaker() as session, session.begin():
                repository = ExportRepository(session)
                rows = await repository.rows(source, selection, after, settings.batch_size)
                full = len(rows) == settings.batch_size
                written += len(rows)
                values: dict[str, Any] = {"written_resources": written, "updated_at": clock()}
                if full:
                    values.update(cursor_type=resource_type, cursor_id=rows[-1].id)
                else:
                    values.update(cursor_type=following, cursor_id=None)
                await _save(repository, job_id, attempt, values)
                if rows:
                    resources = await _as_served(session, source, rows, Reach(job.organisation))
                    lines = [
                        _line(resource, row.person_key, job.pseudonymised, settings)
                        for resource, row in zip(resources, rows, strict=True)
                    ]
                    await repository.add_part(
                        job_id, resource_type, len(rows), b"".join(lines).decode()
                    )
            if not full:
                after = None
                break
            after = rows[-1].id
    async with sessionmaker() as session, session.begin():
        now = clock()
        await _save(
            ExportRepository(session),
            job_id,
            attempt,
            {"status": "completed", "finished_at": now, "updated_at": now},
        )


async def _reread(sessionmaker: async_sessionmaker[AsyncSession], job_id: str) -> StoredExport:
    async with sessionmaker() as session:
        job = await ExportRepository(session).get(job_id)
    if job is None:
        raise _TakenOver
    return job


async def _save(
    repository: ExportRepository, job_id: str, attempt: int, values: dict[str, Any]
) -> None:
    if not await repository.update(job_id, attempt, values):
        raise _TakenOver


async def _selection(job: StoredExport) -> Selection:
    receiver, role = None, None
    if job.group_id is not None:
        kind, _, value = job.group_id.partition("-")
        receiver, role = (value, None) if kind == "organization" else (None, value)
    return Selection(job.organisation, receiver, role, job.since)


async def _as_served(
    session: AsyncSession, source: ExportSource, rows: list[ExportedRow], reach: Reach
) -> list[str]:
    """The resources as the API serves them: a ServiceRequest with its linked referrals (one
    query per part), as `GET` shows them to the organisation the export is for."""
    if source.resource_type != "ServiceRequest":
        return [row.resource for row in rows]
    return [served.decode() for served in await rendering.served(session, rows, reach)]


def _line(resource: str, person_key: str, pseudonymise: bool, settings: RunSettings) -> bytes:
    if not pseudonymise:
        return resource.encode() + b"\n"
    pseudonym = str(pseudonym_of(person_key, settings.pseudonym_key))
    return orjson.dumps(pseudonymised(orjson.loads(resource), pseudonym)) + b"\n"


# Elements left out of a pseudonymised resource: business identifiers (a sender's referral
# number leads back to the person's record) and narrative. Free text is left out wherever it
# stands (a person's own words can name them or others); contained resources too, but for coded
# Goals (a care plan's "what matters to me", coded), kept pseudonymised like their plan.
_LEFT_OUT = ("identifier", "text", "contained")
_FREE_TEXT = frozenset({"text", "description", "comment", "note", "patientInstruction"})
_PERSON_ELEMENTS = ("subject", "for", "patient")
_KEPT_CONTAINED = frozenset({"Goal"})


def pseudonymised(document: dict[str, Any], pseudonym: str) -> dict[str, Any]:
    """The resource with its person named by `pseudonym` and direct identifiers and free text
    left out. References to a contained resource that is left out go too, so every `#id` left
    resolves."""
    identifier = {"system": systems.PERSON_PSEUDONYM, "value": pseudonym}
    contained = [
        kept
        for resource in document.get("contained", [])
        if resource.get("resourceType") in _KEPT_CONTAINED
        and "description" in (kept := pseudonymised(resource, pseudonym))
        and "id" in kept
    ]
    kept_ids = frozenset(f"#{resource['id']}" for resource in contained)
    result: dict[str, Any] = {}
    for key, value in document.items():
        if key in _LEFT_OUT or (key in _FREE_TEXT and _is_free_text(value)):
            continue
        if key in _PERSON_ELEMENTS:
            result[key] = {"type": "Patient", "identifier": identifier}
        elif (cleaned := _cleaned(value, identifier, kept_ids)) is not None:
            result[key] = cleaned
    if contained:
        result["contained"] = contained
    return result


def _cleaned(value: Any, replacement: dict[str, str], kept_ids: frozenset[str]) -> Any:
    """`value` without free text and references to contained resources left out, and with any
    NHS number (wherever a sender put one) replaced by the pseudonym; None if nothing is left
    (FHIR JSON holds no empty objects or arrays)."""
    if isinstance(value, dict):
        if systems.normalise_system(str(value.get("system", ""))) == systems.NHS_NUMBER:
            return dict(replacement)
        reference = value.get("reference")
        if isinstance(reference, str) and reference.startswith("#") and reference not in kept_ids:
            return None
        cleaned = {
            key: kept
            for key, item in value.items()
            if key not in _FREE_TEXT or not _is_free_text(item)
            if (kept := _cleaned(item, replacement, kept_ids)) is not None
        }
        return cleaned or None
    if isinstance(value, list):
        items = [
            kept for item in value if (kept := _cleaned(item, replacement, kept_ids)) is not None
        ]
        return items or None
    return value


def _is_free_text(value: Any) -> bool:
    """A string, or a list of Annotations (`note`): not a coded `description` such as a Goal's."""
    return isinstance(value, str) or (
        isinstance(value, list)
        and value != []
        and all(isinstance(item, dict) and "text" in item for item in value)
    )
