"""All SQL about organisations."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from directory_api.organizations.models import Organization
from directory_api.services.models import Service


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


_STORED = (
    Organization.id,
    Organization.name,
    Organization.document,
    Organization.fhir_resource,
    Organization.version,
    Organization.last_modified_at,
    Organization.retired_at,
    Organization.input_digest,
)


class OrganizationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, organization_id: str) -> StoredOrganization | None:
        row = (
            await self.session.execute(select(*_STORED).where(Organization.id == organization_id))
        ).first()
        return StoredOrganization(*row) if row else None

    async def many(self, ids: Sequence[str]) -> dict[str, StoredOrganization]:
        if not ids:
            return {}
        rows = await self.session.execute(select(*_STORED).where(Organization.id.in_(set(ids))))
        return {row.id: StoredOrganization(*row) for row in rows}

    async def save(self, values: dict[str, Any], *, exists: bool) -> None:
        if exists:
            await self.session.execute(
                update(Organization).where(Organization.id == values["id"]).values(**values)
            )
        else:
            await self.session.execute(insert(Organization).values(**values))

    async def live_services(self, organization_id: str) -> list[str]:
        rows = await self.session.execute(
            select(Service.id).where(
                Service.organization_id == organization_id, Service.retired_at.is_(None)
            )
        )
        return list(rows.scalars())

    async def search(
        self, text: str | None, limit: int | None, offset: int
    ) -> tuple[int, list[StoredOrganization]]:
        conditions = [Organization.retired_at.is_(None)]
        for word in (text or "").lower().split():
            conditions.append(Organization.search_text.contains(word))
        total = (
            await self.session.execute(
                select(func.count()).select_from(Organization).where(*conditions)
            )
        ).scalar_one()
        statement = select(*_STORED).where(*conditions).order_by(Organization.name, Organization.id)
        if limit is not None:
            statement = statement.limit(limit).offset(offset)
        return total, [StoredOrganization(*row) for row in await self.session.execute(statement)]
