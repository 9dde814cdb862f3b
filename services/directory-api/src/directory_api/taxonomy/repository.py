"""All SQL about taxonomies, terms and the needs → service types map."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from directory_api.record_repository import RecordRepository
from directory_api.services.models import Service, ServiceAttribute
from directory_api.taxonomy.models import NeedServiceType, Taxonomy, TaxonomyTerm
from signpost_platform.db import Repository
from signpost_platform.text_match import contains


@dataclass(frozen=True, slots=True)
class StoredTaxonomy:
    id: str
    name: str
    description: str
    uri: str | None
    version: str | None
    last_modified_at: datetime
    retired_at: datetime | None
    input_digest: str


@dataclass(frozen=True, slots=True)
class StoredTerm:
    id: str
    taxonomy_id: str | None
    parent_id: str | None
    code: str | None
    name: str
    document: str
    last_modified_at: datetime
    retired_at: datetime | None
    input_digest: str


class _Taxonomies(RecordRepository[StoredTaxonomy]):
    model = Taxonomy
    stored = StoredTaxonomy


class _Terms(RecordRepository[StoredTerm]):
    model = TaxonomyTerm
    stored = StoredTerm


class TaxonomyRepository(Repository):
    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session)
        self._taxonomies = _Taxonomies(session)
        self._terms = _Terms(session)

    # Taxonomies

    async def get_taxonomy(self, taxonomy_id: str) -> StoredTaxonomy | None:
        return await self._taxonomies.get(taxonomy_id)

    async def taxonomies(self, ids: Sequence[str]) -> dict[str, StoredTaxonomy]:
        return await self._taxonomies.many(ids)

    async def save_taxonomy(self, values: dict[str, Any], *, exists: bool) -> None:
        await self._taxonomies.save(values, exists=exists)

    async def list_taxonomies(
        self, search: str | None, limit: int | None, offset: int
    ) -> tuple[int, list[StoredTaxonomy]]:
        conditions: list[ColumnElement[bool]] = [Taxonomy.retired_at.is_(None)]
        if search:
            conditions.append(contains(func.lower(Taxonomy.name), search.lower()))
        order = (Taxonomy.name, Taxonomy.id)
        return await self._taxonomies.page(conditions, order, limit=limit, offset=offset)

    # Terms

    async def get_term(self, term_id: str) -> StoredTerm | None:
        return await self._terms.get(term_id)

    async def terms(self, ids: Sequence[str]) -> dict[str, StoredTerm]:
        return await self._terms.many(ids)

    async def terms_of_taxonomy(self, taxonomy_id: str) -> list[StoredTerm]:
        rows = await self.session.execute(
            select(*_Terms.columns)
            .where(TaxonomyTerm.taxonomy_id == taxonomy_id, TaxonomyTerm.retired_at.is_(None))
            .order_by(TaxonomyTerm.name, TaxonomyTerm.id)
        )
        return [StoredTerm(*row) for row in rows]

    async def save_term(self, values: dict[str, Any], *, exists: bool) -> None:
        await self._terms.save(values, exists=exists)

    async def find_terms(self, reference: str) -> list[str]:
        """Ids of live terms whose id or code is `reference`."""
        rows = await self.session.execute(
            select(TaxonomyTerm.id).where(
                or_(TaxonomyTerm.id == reference, TaxonomyTerm.code == reference),
                TaxonomyTerm.retired_at.is_(None),
            )
        )
        return list(rows.scalars())

    async def find_terms_by_system(self, system: str, code: str) -> list[str]:
        """Ids of live terms with `code` in the taxonomy whose uri is `system`."""
        rows = await self.session.execute(
            select(TaxonomyTerm.id)
            .join(Taxonomy, Taxonomy.id == TaxonomyTerm.taxonomy_id)
            .where(
                Taxonomy.uri == system, TaxonomyTerm.code == code, TaxonomyTerm.retired_at.is_(None)
            )
        )
        return list(rows.scalars())

    async def with_descendants(self, term_ids: Sequence[str]) -> set[str]:
        """The terms and every live term below them (taxonomies are shallow: a loop suffices)."""
        found = set(term_ids)
        frontier = set(term_ids)
        while frontier:
            rows = await self.session.execute(
                select(TaxonomyTerm.id).where(
                    TaxonomyTerm.parent_id.in_(frontier), TaxonomyTerm.retired_at.is_(None)
                )
            )
            frontier = set(rows.scalars()) - found
            found |= frontier
        return found

    async def service_types_for_needs(self, need_term_ids: Sequence[str]) -> set[str]:
        rows = await self.session.execute(
            select(NeedServiceType.service_type_term_id).where(
                NeedServiceType.need_term_id.in_(set(need_term_ids))
            )
        )
        return set(rows.scalars())

    async def map_need(self, need_term_id: str, service_type_term_ids: Sequence[str]) -> None:
        existing = set(
            (
                await self.session.execute(
                    select(NeedServiceType.service_type_term_id).where(
                        NeedServiceType.need_term_id == need_term_id
                    )
                )
            ).scalars()
        )
        new = [t for t in dict.fromkeys(service_type_term_ids) if t not in existing]
        if new:
            await self.session.execute(
                insert(NeedServiceType),
                [{"need_term_id": need_term_id, "service_type_term_id": t} for t in new],
            )

    async def list_terms(
        self,
        *,
        search: str | None,
        taxonomy_id: str | None,
        parent_id: str | None,
        top_only: bool,
        limit: int | None,
        offset: int,
    ) -> tuple[int, list[StoredTerm]]:
        conditions: list[ColumnElement[bool]] = [TaxonomyTerm.retired_at.is_(None)]
        if search:
            words = search.lower().split()
            conditions += [
                or_(
                    contains(func.lower(TaxonomyTerm.name), w),
                    contains(func.lower(TaxonomyTerm.code), w),
                )
                for w in words
            ]
        if taxonomy_id:
            conditions.append(TaxonomyTerm.taxonomy_id == taxonomy_id)
        if parent_id:
            conditions.append(TaxonomyTerm.parent_id == parent_id)
        if top_only:
            conditions.append(TaxonomyTerm.parent_id.is_(None))
        order = (TaxonomyTerm.name, TaxonomyTerm.id)
        return await self._terms.page(conditions, order, limit=limit, offset=offset)

    async def live_children(self, term_id: str) -> list[str]:
        rows = await self.session.execute(
            select(TaxonomyTerm.id).where(
                TaxonomyTerm.parent_id == term_id, TaxonomyTerm.retired_at.is_(None)
            )
        )
        return list(rows.scalars())

    async def services_using_terms(self, term_ids: Sequence[str], *, live_only: bool) -> list[str]:
        statement = (
            select(ServiceAttribute.service_id)
            .where(ServiceAttribute.taxonomy_term_id.in_(set(term_ids)))
            .distinct()
        )
        if live_only:
            statement = statement.join(Service, Service.id == ServiceAttribute.service_id).where(
                Service.retired_at.is_(None)
            )
        return list((await self.session.execute(statement)).scalars())
