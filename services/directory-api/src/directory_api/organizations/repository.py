"""All SQL about organisations."""

from dataclasses import dataclass

from sqlalchemy import ColumnElement, select

from directory_api.organizations.models import Organization
from directory_api.record_repository import NestedRepository, StoredNested
from directory_api.services.models import Service
from signpost_platform.text_match import contains


@dataclass(frozen=True, slots=True)
class StoredOrganization(StoredNested):
    name: str


class OrganizationRepository(NestedRepository[StoredOrganization]):
    model = Organization
    stored = StoredOrganization

    def matching(self, text: str) -> list[ColumnElement[bool]]:
        return [contains(Organization.search_text, word) for word in text.lower().split()]

    async def live_services(self, organization_id: str) -> list[str]:
        rows = await self.session.execute(
            select(Service.id).where(
                Service.organization_id == organization_id, Service.retired_at.is_(None)
            )
        )
        return list(rows.scalars())
