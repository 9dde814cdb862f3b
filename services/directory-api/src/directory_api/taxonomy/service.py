"""The rules for taxonomies and their terms."""

from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from directory_api.changes.repository import ChangeRepository
from directory_api.curation import (
    Outcome,
    WriteMode,
    begin_write,
    live_reference,
    stored_record,
    written,
)
from directory_api.documents import reading, rendering
from directory_api.documents.oruk import taxonomy_document, term_document
from directory_api.services.search import Page
from directory_api.taxonomy.repository import StoredTaxonomy, StoredTerm, TaxonomyRepository
from directory_api.taxonomy.schemas import TaxonomyIn, TaxonomyTermIn
from signpost_platform.errors import BadRequest, Conflict, Unprocessable


async def save_taxonomy(
    session: AsyncSession, payload: TaxonomyIn, mode: WriteMode, taxonomy_id: str | None = None
) -> tuple[StoredTaxonomy, Outcome]:
    """Create or update a taxonomy (its terms, when sent, are saved too)."""
    repository = TaxonomyRepository(session)
    write = await begin_write("taxonomy", repository.get_taxonomy, taxonomy_id, payload, mode)
    if write.unchanged is not None:
        return write.unchanged, Outcome.UNCHANGED
    record_id, existing = write.record_id, write.existing
    now = datetime.now(UTC)
    values = {
        "id": record_id,
        "name": payload.name,
        "description": payload.description,
        "uri": payload.uri,
        "version": payload.version,
        "last_modified_at": now,
        "input_digest": write.digest,
    }
    await repository.save_taxonomy(values, exists=existing is not None)
    await ChangeRepository(session).record("taxonomy", [record_id], "updated", now)
    for term in payload.taxonomy_terms or []:
        await save_term(
            session, term.model_copy(update={"taxonomy_id": record_id}), WriteMode.UPSERT
        )
    if existing is not None and existing.name != payload.name:
        await rendering.refresh_terms_of_taxonomy(session, record_id, now)
    stored = await written(repository.get_taxonomy, record_id)
    return stored, Outcome.CREATED if existing is None else Outcome.UPDATED


async def save_term(
    session: AsyncSession, payload: TaxonomyTermIn, mode: WriteMode, term_id: str | None = None
) -> tuple[StoredTerm, Outcome]:
    """Create or update a taxonomy term, then re-render every service that uses it."""
    repository = TaxonomyRepository(session)
    write = await begin_write("taxonomy_term", repository.get_term, term_id, payload, mode)
    if write.unchanged is not None:
        return write.unchanged, Outcome.UNCHANGED
    record_id, existing = write.record_id, write.existing
    taxonomy = None
    if payload.taxonomy_id:
        taxonomy = await live_reference(
            "taxonomy", repository.get_taxonomy, payload.taxonomy_id, "taxonomy_id"
        )
    if payload.parent_id:
        await _check_parent(repository, record_id, payload.parent_id, payload.taxonomy_id)
    now = datetime.now(UTC)
    document = term_document(record_id, payload, taxonomy)
    await repository.save_term(
        {
            "id": record_id,
            "taxonomy_id": payload.taxonomy_id,
            "parent_id": payload.parent_id,
            "code": payload.code,
            "name": payload.name,
            "document": orjson.dumps(document).decode(),
            "last_modified_at": now,
            "input_digest": write.digest,
        },
        exists=existing is not None,
    )
    await ChangeRepository(session).record("taxonomy_term", [record_id], "updated", now)
    if existing is not None:
        users = await repository.services_using_terms([record_id], live_only=True)
        await rendering.refresh_services(session, users, now)
    stored = await written(repository.get_term, record_id)
    return stored, Outcome.CREATED if existing is None else Outcome.UPDATED


async def retire_term(session: AsyncSession, term_id: str) -> StoredTerm:
    """Retire a term no live service or live child term uses (idempotent)."""
    repository = TaxonomyRepository(session)
    existing = await stored_record("taxonomy_term", repository.get_term, term_id)
    if existing.retired_at is not None:
        return existing
    if users := await repository.services_using_terms([term_id], live_only=True):
        raise Conflict(
            f"taxonomy_term {term_id} is used by {len(users)} live service(s) "
            f"(e.g. {users[0]}): remove it from them first",
            expression="id",
        )
    if children := await repository.live_children(term_id):
        raise Conflict(
            f"taxonomy_term {term_id} has live child terms (e.g. {children[0]}): retire them first",
            expression="id",
        )
    now = datetime.now(UTC)
    await repository.save_term(
        {"id": term_id, "retired_at": now, "last_modified_at": now}, exists=True
    )
    await ChangeRepository(session).record("taxonomy_term", [term_id], "deleted", now)
    return await written(repository.get_term, term_id)


async def _check_parent(
    repository: TaxonomyRepository, term_id: str, parent_id: str, taxonomy_id: str | None
) -> None:
    parent = await live_reference("taxonomy_term", repository.get_term, parent_id, "parent_id")
    if parent.taxonomy_id != taxonomy_id:
        raise Unprocessable(
            "a parent term must belong to the same taxonomy", expression="parent_id"
        )
    # Walk up from the parent: meeting this term again would make a loop.
    seen = {term_id}
    current: StoredTerm | None = parent
    while current is not None:
        if current.id in seen:
            raise Unprocessable("parent_id would make a loop of terms", expression="parent_id")
        seen.add(current.id)
        current = await repository.get_term(current.parent_id) if current.parent_id else None


async def list_taxonomies(
    session: AsyncSession, text: str | None, page: Page
) -> tuple[int, list[dict[str, Any]]]:
    total, rows = await TaxonomyRepository(session).list_taxonomies(text, page.size, page.offset)
    return total, [taxonomy_document(row) for row in rows]


async def read_taxonomy(session: AsyncSession, taxonomy_id: str) -> dict[str, Any]:
    """A taxonomy with its live terms nested."""
    taxonomies = TaxonomyRepository(session)
    stored = await stored_record("taxonomy", taxonomies.get_taxonomy, taxonomy_id)
    return await reading.taxonomy_with_terms(session, stored)


async def list_terms(
    session: AsyncSession,
    *,
    text: str | None,
    taxonomy_id: str | None,
    parent_id: str | None,
    top_only: bool,
    page: Page,
) -> tuple[int, list[StoredTerm]]:
    repository = TaxonomyRepository(session)
    if taxonomy_id and await repository.get_taxonomy(taxonomy_id) is None:
        raise BadRequest(f"unknown taxonomy_id {taxonomy_id}", expression="taxonomy_id")
    return await repository.list_terms(
        search=text,
        taxonomy_id=taxonomy_id,
        parent_id=parent_id,
        top_only=top_only,
        limit=page.size,
        offset=page.offset,
    )


async def read_term(session: AsyncSession, term_id: str) -> StoredTerm:
    return await stored_record("taxonomy_term", TaxonomyRepository(session).get_term, term_id)
