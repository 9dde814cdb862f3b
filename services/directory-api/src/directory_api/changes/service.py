"""Reading the change feed: a page of changes with the current data of each updated record."""

from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from directory_api.changes.repository import ChangeRepository, ChangeRow
from directory_api.locations.repository import LocationRepository
from directory_api.organizations.repository import OrganizationRepository
from directory_api.services.repository import ServiceRepository
from directory_api.taxonomy.repository import TaxonomyRepository
from directory_api.taxonomy.service import taxonomy_document

KINDS = ("service", "organization", "location", "taxonomy", "taxonomy_term")


@dataclass(frozen=True, slots=True)
class FeedItem:
    change: ChangeRow
    data: dict[str, Any] | None  # None for a deleted (retired) record


async def feed_page(
    session: AsyncSession, after: int, kinds: list[str], limit: int
) -> list[FeedItem]:
    """Up to `limit` changes after change number `after`, oldest first."""
    rows = await ChangeRepository(session).after(after, kinds, limit)
    data = await _documents(session, rows)
    return [FeedItem(row, data.get((row.kind, row.record_id))) for row in rows]


async def _documents(session: AsyncSession, rows: list[ChangeRow]) -> dict[tuple[str, str], Any]:
    wanted: dict[str, list[str]] = {}
    for row in rows:
        if row.state == "updated":
            wanted.setdefault(row.kind, []).append(row.record_id)
    found: dict[tuple[str, str], Any] = {}
    if ids := wanted.get("service"):
        for service in await ServiceRepository(session).many(ids):
            found[("service", service.id)] = orjson.loads(service.document)
    if ids := wanted.get("organization"):
        for oid, organization in (await OrganizationRepository(session).many(ids)).items():
            found[("organization", oid)] = orjson.loads(organization.document)
    if ids := wanted.get("location"):
        for lid, location in (await LocationRepository(session).many(ids)).items():
            found[("location", lid)] = orjson.loads(location.document)
    taxonomy = TaxonomyRepository(session)
    if ids := wanted.get("taxonomy"):
        for tid, stored in (await taxonomy.taxonomies(ids)).items():
            found[("taxonomy", tid)] = taxonomy_document(stored)
    if ids := wanted.get("taxonomy_term"):
        for tid, term in (await taxonomy.terms(ids)).items():
            found[("taxonomy_term", tid)] = orjson.loads(term.document)
    return found
