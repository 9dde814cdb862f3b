"""All SQL about organisations."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, select

from directory_api.organizations.models import Organization
from directory_api.record_repository import RecordRepository
from directory_api.services.models import Service
from signpost_platform.fhir.search import DateRange, date_condition
from signpost_platform.text_match import contains


@dataclass(frozen=True, slots=True)
class StoredOrganization:
    id: str
    name: str
    document: str
    fhir_resource: str
    version: int
    last_modified_at: datetime
    retired_at: datetime | None
    input_digest: str


class OrganizationRepository(RecordRepository[StoredOrganization]):
    model = Organization
    stored = StoredOrganization

    async def live_services(self, organization_id: str) -> list[str]:
        rows = await self.session.execute(
            select(Service.id).where(
                Service.organization_id == organization_id, Service.retired_at.is_(None)
            )
        )
        return list(rows.scalars())

    async def search(
        self,
        text: str | None,
        limit: int | None,
        offset: int,
        *,
        ids: Sequence[Sequence[str]] = (),
        last_updated: Sequence[DateRange] = (),
    ) -> tuple[int, list[StoredOrganization]]:
        conditions: list[ColumnElement[bool]] = [Organization.retired_at.is_(None)]
        conditions += [Organization.id.in_(values) for values in ids]
        conditions += [date_condition(Organization.last_modified_at, r) for r in last_updated]
        for word in (text or "").lower().split():
            conditions.append(contains(Organization.search_text, word))
        order = (Organization.name, Organization.id)
        return await self.page(conditions, order, limit=limit, offset=offset)
