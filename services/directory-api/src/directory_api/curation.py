"""Rules every curated record shares: create/update/upsert semantics and input digests.

A create that repeats an earlier one (same id, same content) returns the record unchanged, so a
retried request never duplicates and never bumps `last_modified`; a create whose id is taken by
different content is a conflict. Retired records are never changed or silently revived.
"""

import hashlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Generic, Protocol, TypeVar

import orjson
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from directory_api.changes.repository import ChangeRepository
from directory_api.documents import rendering
from directory_api.fields import RecordInput
from signpost_platform.auth import Caller, require_scope
from signpost_platform.errors import Conflict, NotFound, PreconditionFailed, Unprocessable

# The caller of a curation route: its token must grant directory:write.
WriteCaller = Annotated[Caller, require_scope("directory:write")]

# The refusals `decide`, `retire_nested` and the If-Match check give, for the curation routes to
# declare in the OpenAPI document.
CREATE_REFUSALS: dict[int | str, dict[str, Any]] = {
    409: {"description": "The id is taken by different content, or the record is retired"}
}
UPDATE_REFUSALS: dict[int | str, dict[str, Any]] = {409: {"description": "The record is retired"}}
GUARDED_UPDATE_REFUSALS: dict[int | str, dict[str, Any]] = {
    **UPDATE_REFUSALS,
    412: {"description": "If-Match names a version that is no longer current"},
}
RETIRE_REFUSALS: dict[int | str, dict[str, Any]] = {
    409: {"description": "A live service (or a live child term) still uses the record"}
}

# Namespace for ids Signpost derives (seeded records, children sent without ids).
SIGNPOST_NAMESPACE = uuid.UUID("6f1c1d2e-8a51-4d0c-9a57-2d7e0f3b9c41")


class WriteMode(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    UPSERT = "upsert"  # bulk import and seeding


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


class Curated(Protocol):
    """A stored record's curation fields (read-only: stored records are frozen)."""

    @property
    def retired_at(self) -> datetime | None: ...

    @property
    def input_digest(self) -> str: ...


class Versioned(Curated, Protocol):
    @property
    def version(self) -> int: ...


Stored = TypeVar("Stored", bound=Versioned)
Stored_co = TypeVar("Stored_co", bound=Versioned, covariant=True)
Record = TypeVar("Record", bound=Curated)
Found = TypeVar("Found")
Payload = TypeVar("Payload", bound=RecordInput)


class PlaceRepository(Protocol[Stored_co]):
    """What organisations and locations have in common: records that services nest."""

    async def get(self, record_id: str) -> Stored_co | None: ...

    async def save(self, values: dict[str, Any], *, exists: bool) -> None: ...

    async def live_services(self, record_id: str) -> list[str]: ...


def target_id(url_id: str | None, body_id: str | None) -> str:
    """The id a write is for: the URL's, else the body's, else a new one."""
    if url_id and body_id and url_id != body_id:
        raise Unprocessable("the body id differs from the id in the URL", expression="id")
    return url_id or body_id or str(uuid.uuid4())


def digest(model: BaseModel) -> str:
    """SHA-256 of the input's meaningful content (export-only fields left out)."""
    text = model.model_dump_json(exclude_none=True, exclude={"last_modified", "metadata"})
    return hashlib.sha256(text.encode()).hexdigest()


def stale(kind: str, current: int, expected: int) -> PreconditionFailed:
    """The refusal of a write whose If-Match names a version that is no longer current."""
    return PreconditionFailed(
        f"If-Match names version {expected} of this {kind} but the current version is "
        f"{current}: read it again and reapply the change",
        expression="If-Match",
    )


def derived_id(*parts: str) -> str:
    """A stable UUID for a record Signpost names itself (the same on every deployment)."""
    return str(uuid.uuid5(SIGNPOST_NAMESPACE, "/".join(parts)))


def decide(
    kind: str, record_id: str, existing: Curated | None, new_digest: str, mode: WriteMode
) -> Outcome | None:
    """What a write should do: None means go ahead; an Outcome means stop with that outcome."""
    if existing is None:
        if mode is WriteMode.UPDATE:
            raise NotFound(f"no {kind} with id {record_id}", expression="id")
        return None
    if existing.retired_at is not None:
        raise Conflict(
            f"{kind} {record_id} was retired on {existing.retired_at.date().isoformat()} and "
            "cannot be changed",
            expression="id",
        )
    if existing.input_digest == new_digest:
        return Outcome.UNCHANGED
    if mode is WriteMode.CREATE:
        raise Conflict(
            f"{kind} {record_id} already exists with different content; update it with PUT",
            expression="id",
            issue_code="duplicate",
        )
    return None


async def stored_record(
    kind: str, get: Callable[[str], Awaitable[Found | None]], record_id: str
) -> Found:
    """The record a URL names (retired ones included), or 404."""
    record = await get(record_id)
    if record is None:
        raise NotFound(f"no {kind} with id {record_id}", expression="id")
    return record


async def written(get: Callable[[str], Awaitable[Found | None]], record_id: str) -> Found:
    """The record this transaction has just written under `record_id`, read back."""
    stored = await get(record_id)
    assert stored is not None
    return stored


def require_live(kind: str, record: Record | None, record_id: str, expression: str) -> Record:
    """The live record an input refers to by id (at `expression`): a missing or retired one
    makes the input invalid (422)."""
    if record is None or record.retired_at is not None:
        raise Unprocessable(f"no {kind} with id {record_id}", expression=expression)
    return record


async def live_reference(
    kind: str,
    get: Callable[[str], Awaitable[Record | None]],
    record_id: str,
    expression: str,
) -> Record:
    """`require_live` for a record read by id."""
    return require_live(kind, await get(record_id), record_id, expression)


@dataclass(frozen=True, slots=True)
class Write(Generic[Record]):
    """A create or update about to be written: the record's id, what is stored under it now,
    and the digest of the input that will replace it."""

    record_id: str
    existing: Record | None
    digest: str
    # The stored record when it already has this content: answer it, write nothing.
    unchanged: Record | None


async def begin_write(
    kind: str,
    get: Callable[[str], Awaitable[Record | None]],
    url_id: str | None,
    payload: RecordInput,
    mode: WriteMode,
) -> Write[Record]:
    """The start every create and update shares: the record it is for (see `target_id`), what
    is stored, whether the write is refused (`decide`) or has nothing to do."""
    record_id = target_id(url_id, payload.id)
    existing = await get(record_id)
    new_digest = digest(payload)
    outcome = decide(kind, record_id, existing, new_digest, mode)
    unchanged = existing if outcome is Outcome.UNCHANGED else None
    return Write(record_id, existing, new_digest, unchanged)


async def begin_versioned_write(
    kind: str,
    get: Callable[[str], Awaitable[Stored | None]],
    url_id: str | None,
    payload: RecordInput,
    mode: WriteMode,
    expected_version: int | None,
) -> Write[Stored]:
    """`begin_write` for a record with versions: an If-Match naming another version than the
    stored one is refused first (412), before any other refusal."""

    async def current(wanted_id: str) -> Stored | None:
        existing = await get(wanted_id)
        if existing and expected_version is not None and existing.version != expected_version:
            raise stale(kind, existing.version, expected_version)
        return existing

    return await begin_write(kind, current, url_id, payload, mode)


async def save_nested(
    session: AsyncSession,
    kind: str,
    repository: PlaceRepository[Stored],
    write: Write[Stored],
    columns: dict[str, Any],
    rendered: tuple[dict[str, Any], dict[str, Any]],
    now: datetime,
) -> tuple[Stored, Outcome]:
    """Save a record that services nest: its own `columns`, its `rendered` ORUK document and
    FHIR resource, and the next version; then its feed entry, and its services re-rendered."""
    record_id, created = write.record_id, write.existing is None
    document, fhir_resource = rendered
    await repository.save(
        {
            "id": record_id,
            **columns,
            "document": orjson.dumps(document).decode(),
            "fhir_resource": orjson.dumps(fhir_resource).decode(),
            "version": write.existing.version + 1 if write.existing else 1,
            "last_modified_at": now,
            "input_digest": write.digest,
        },
        exists=not created,
    )
    await ChangeRepository(session).record(kind, [record_id], "updated", now)
    if not created:
        await rendering.refresh_services(session, await repository.live_services(record_id), now)
    stored = await written(repository.get, record_id)
    return stored, Outcome.CREATED if created else Outcome.UPDATED


async def retire_nested(
    session: AsyncSession, kind: str, repository: PlaceRepository[Stored], record_id: str
) -> Stored:
    """Retire a record no live service uses (idempotent): a tombstone in the feed."""
    existing = await stored_record(kind, repository.get, record_id)
    if existing.retired_at is not None:
        return existing
    if services := await repository.live_services(record_id):
        raise Conflict(
            f"{kind} {record_id} is used by {len(services)} live service(s) "
            f"(e.g. {services[0]}): retire them or move them elsewhere first",
            expression="id",
        )
    now = datetime.now(UTC)
    await repository.save(
        {
            "id": record_id,
            "retired_at": now,
            "last_modified_at": now,
            "version": existing.version + 1,
        },
        exists=True,
    )
    await ChangeRepository(session).record(kind, [record_id], "deleted", now)
    return await written(repository.get, record_id)


# A nested record's own columns and its rendered (ORUK document, FHIR resource), from its id,
# its input and the time of the write.
Rows = tuple[dict[str, Any], tuple[dict[str, Any], dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class NestedRecords(Generic[Stored, Payload]):
    """The curation of one kind of record services nest (organisations, locations): `rows`
    checks an input's references and gives what is stored for it."""

    kind: str
    repository: Callable[[AsyncSession], PlaceRepository[Stored]]
    rows: Callable[[AsyncSession, str, Payload, datetime], Awaitable[Rows]]

    async def save(
        self,
        session: AsyncSession,
        payload: Payload,
        mode: WriteMode,
        url_id: str | None = None,
        expected_version: int | None = None,
    ) -> tuple[Stored, Outcome]:
        """Create or update a record (see `target_id`), then re-render the services nesting it."""
        repository = self.repository(session)
        write = await begin_versioned_write(
            self.kind, repository.get, url_id, payload, mode, expected_version
        )
        if write.unchanged is not None:
            return write.unchanged, Outcome.UNCHANGED
        now = datetime.now(UTC)
        columns, rendered = await self.rows(session, write.record_id, payload, now)
        return await save_nested(session, self.kind, repository, write, columns, rendered, now)

    async def retire(self, session: AsyncSession, record_id: str) -> Stored:
        """Retire a record no live service nests (idempotent)."""
        return await retire_nested(session, self.kind, self.repository(session), record_id)

    async def read(self, session: AsyncSession, record_id: str) -> Stored:
        """The record (retired ones included), or 404."""
        return await stored_record(self.kind, self.repository(session).get, record_id)
