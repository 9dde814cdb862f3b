"""The rules for organisations."""

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from directory_api.curation import (
    NestedRecords,
    Rows,
    live_reference,
)
from directory_api.documents import reading
from directory_api.documents.fhir import organization_resource
from directory_api.documents.oruk import organization_document
from directory_api.organizations.repository import OrganizationRepository, StoredOrganization
from directory_api.organizations.schemas import OrganizationIn
from directory_api.services.search import Page
from signpost_platform.errors import Unprocessable


async def _rows(
    session: AsyncSession, record_id: str, payload: OrganizationIn, now: datetime
) -> Rows:
    """An organisation's columns and documents; its parent must be another live organisation."""
    if payload.parent_organization_id:
        if payload.parent_organization_id == record_id:
            raise Unprocessable(
                "an organisation cannot be its own parent", expression="parent_organization_id"
            )
        await live_reference(
            "organization",
            OrganizationRepository(session).get,
            payload.parent_organization_id,
            "parent_organization_id",
        )
    document = organization_document(record_id, payload)
    search_text = " ".join(
        filter(None, (payload.name, payload.alternate_name, payload.description))
    )
    columns = {"name": payload.name, "search_text": search_text.lower()}
    return columns, (document, organization_resource(document, now))


ORGANIZATIONS = NestedRecords("organization", OrganizationRepository, _rows)


async def list_organizations(
    session: AsyncSession, text: str | None, page: Page
) -> tuple[int, list[StoredOrganization]]:
    return await OrganizationRepository(session).search(text, page.size, page.offset)


async def read_with_services(
    session: AsyncSession, organization_id: str, *, full_services: bool
) -> tuple[StoredOrganization, dict[str, Any]]:
    """An organisation and its document with its live services nested (list items or full)."""
    stored = await ORGANIZATIONS.read(session, organization_id)
    document = await reading.organization_with_services(
        session, stored, full_services=full_services
    )
    return stored, document
