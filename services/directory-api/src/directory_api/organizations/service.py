"""The rules for organisations."""

from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from directory_api.curation import (
    Outcome,
    WriteMode,
    decide,
    derived_id,
    digest,
    finish_nested_save,
    retire_nested,
    target_id,
)
from directory_api.documents import content_of, ordered, with_child_ids
from directory_api.fhir.mapping import organization_resource
from directory_api.organizations.repository import OrganizationRepository, StoredOrganization
from directory_api.organizations.schemas import OrganizationIn
from directory_api.services import rendering
from directory_api.services.repository import ServiceRepository
from directory_api.services.search import Page, ServiceFilter
from signpost_platform.errors import NotFound, Unprocessable


def organization_document(organization_id: str, payload: OrganizationIn) -> dict[str, Any]:
    content = content_of(payload, exclude={"id"})
    content["organization_identifiers"] = [
        {**item, "id": item.get("id") or derived_id(organization_id, "identifier", str(index))}
        for index, item in enumerate(
            with_child_ids(content.get("organization_identifiers"), organization_id=organization_id)
        )
    ]
    content["phones"] = with_child_ids(content.get("phones"), organization_id=organization_id)
    document = {"id": organization_id, **{k: v for k, v in content.items() if v}}
    return ordered(document, ["id", "name", "alternate_name", "description"])


async def save_organization(
    session: AsyncSession,
    payload: OrganizationIn,
    mode: WriteMode,
    organization_id: str | None = None,
    expected_version: int | None = None,
) -> tuple[StoredOrganization, Outcome]:
    """Create or update an organisation, then re-render its services."""
    repository = OrganizationRepository(session)
    record_id = target_id(organization_id, payload.id)
    existing = await repository.get(record_id)
    if existing and expected_version is not None and existing.version != expected_version:
        raise rendering.stale("organization", existing.version, expected_version)
    new_digest = digest(payload)
    if (stop := decide("organization", record_id, existing, new_digest, mode)) is not None:
        assert existing is not None
        return existing, stop
    if payload.parent_organization_id:
        if payload.parent_organization_id == record_id:
            raise Unprocessable(
                "an organisation cannot be its own parent", expression="parent_organization_id"
            )
        parent = await repository.get(payload.parent_organization_id)
        if parent is None or parent.retired_at is not None:
            raise Unprocessable(
                f"no organization with id {payload.parent_organization_id}",
                expression="parent_organization_id",
            )
    now = datetime.now(UTC)
    document = organization_document(record_id, payload)
    search_text = " ".join(
        filter(None, (payload.name, payload.alternate_name, payload.description))
    )
    await repository.save(
        {
            "id": record_id,
            "name": payload.name,
            "search_text": search_text.lower(),
            "document": orjson.dumps(document).decode(),
            "fhir_resource": orjson.dumps(organization_resource(document, now)).decode(),
            "version": (existing.version + 1) if existing else 1,
            "last_modified_at": now,
            "input_digest": new_digest,
        },
        exists=existing is not None,
    )
    return await finish_nested_save(
        session, "organization", repository, record_id, existing is None, now
    )


async def retire_organization(session: AsyncSession, organization_id: str) -> StoredOrganization:
    """Retire an organisation that has no live services (idempotent)."""
    return await retire_nested(
        session, "organization", OrganizationRepository(session), organization_id
    )


async def list_organizations(
    session: AsyncSession, text: str | None, page: Page
) -> tuple[int, list[StoredOrganization]]:
    return await OrganizationRepository(session).search(text, page.size, page.offset)


async def read_with_services(
    session: AsyncSession, organization_id: str, *, full_services: bool
) -> tuple[StoredOrganization, dict[str, Any]]:
    """An organisation and its document with its live services nested (list items or full)."""
    stored = await OrganizationRepository(session).get(organization_id)
    if stored is None:
        raise NotFound(f"no organization with id {organization_id}", expression="id")
    document = orjson.loads(stored.document)
    _, hits = await ServiceRepository(session).search(
        ServiceFilter(organization_ids=[organization_id]), Page(1, None), full=full_services
    )
    if hits:
        document["services"] = [orjson.loads(hit.body) for hit in hits]
    return stored, document
