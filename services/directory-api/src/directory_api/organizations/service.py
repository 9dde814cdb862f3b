"""The rules for organisations."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from directory_api.curation import (
    Outcome,
    WriteMode,
    begin_versioned_write,
    live_reference,
    retire_nested,
    save_nested,
    stored_record,
    target_id,
)
from directory_api.documents import reading
from directory_api.documents.fhir import organization_resource
from directory_api.documents.oruk import organization_document
from directory_api.organizations.repository import OrganizationRepository, StoredOrganization
from directory_api.organizations.schemas import OrganizationIn
from directory_api.services.search import Page
from signpost_platform.errors import Unprocessable


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
    write = await begin_versioned_write(
        "organization", repository.get, record_id, payload, mode, expected_version
    )
    if write.unchanged is not None:
        return write.unchanged, Outcome.UNCHANGED
    if payload.parent_organization_id:
        if payload.parent_organization_id == record_id:
            raise Unprocessable(
                "an organisation cannot be its own parent", expression="parent_organization_id"
            )
        await live_reference(
            "organization",
            repository.get,
            payload.parent_organization_id,
            "parent_organization_id",
        )
    now = datetime.now(UTC)
    document = organization_document(record_id, payload)
    search_text = " ".join(
        filter(None, (payload.name, payload.alternate_name, payload.description))
    )
    return await save_nested(
        session,
        "organization",
        repository,
        write,
        {"name": payload.name, "search_text": search_text.lower()},
        (document, organization_resource(document, now)),
        now,
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
    organizations = OrganizationRepository(session)
    stored = await stored_record("organization", organizations.get, organization_id)
    document = await reading.organization_with_services(
        session, stored, full_services=full_services
    )
    return stored, document
