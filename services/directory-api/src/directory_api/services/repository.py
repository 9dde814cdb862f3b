"""All SQL about services: writes, the rendering context, and the filtered searches."""

import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    delete,
    exists,
    func,
    insert,
    literal_column,
    or_,
    select,
    update,
)

from directory_api.locations.models import Location
from directory_api.services.models import (
    Service,
    ServiceAreaCode,
    ServiceAtLocation,
    ServiceAttribute,
    ServiceDeliveryMode,
    ServiceDocument,
    ServiceLanguage,
    ServiceOpening,
    ServicePlace,
)
from directory_api.services.search import Hit, Page, ServiceFilter
from directory_api.taxonomy.models import TaxonomyTerm
from signpost_platform.db import AnySelect, Repository
from signpost_platform.text_match import contains, starts_with

# Metres per degree of latitude, and of longitude at the equator (WGS84, near enough for ranking).
_METRES_PER_DEGREE_LATITUDE = 110_574.0
_METRES_PER_DEGREE_LONGITUDE = 111_320.0

Child = TypeVar("Child")


@dataclass(frozen=True, slots=True)
class StoredService:
    id: str
    organization_id: str
    name: str
    status: str
    content: str
    document: str
    summary: str
    fhir_resource: str
    version: int
    created_at: datetime
    last_modified_at: datetime
    retired_at: datetime | None
    input_digest: str


@dataclass(frozen=True, slots=True)
class LinkRow:
    id: str
    location_id: str
    content: str


@dataclass(frozen=True, slots=True)
class AttributeRow:
    id: str
    taxonomy_term_id: str
    link_type: str | None


@dataclass(frozen=True, slots=True)
class ServiceFacts:
    """What the filters search, derived from a service's rendered document."""

    search_text: str
    free_of_charge: bool
    languages: list[str]
    delivery_modes: list[str]
    openings: list[tuple[int, int, int]]
    area_codes: list[str]
    # (service_at_location id, location id, latitude, longitude)
    places: list[tuple[str, str, float, float]]


_STORED = (
    Service.id,
    Service.organization_id,
    Service.name,
    Service.status,
    ServiceDocument.content,
    ServiceDocument.document,
    ServiceDocument.summary,
    ServiceDocument.fhir_resource,
    Service.version,
    Service.created_at,
    Service.last_modified_at,
    Service.retired_at,
    Service.input_digest,
)
_DOCUMENT_COLUMNS = {"content", "document", "summary", "fhir_resource"}
# The tables a service's search facts are kept in (`ServiceFacts`).
_FACT_TABLES = (ServiceLanguage, ServiceDeliveryMode, ServiceOpening, ServiceAreaCode, ServicePlace)


def _stored() -> AnySelect:
    return select(*_STORED).join(ServiceDocument, ServiceDocument.service_id == Service.id)


class ServiceRepository(Repository):
    # Writes and the rendering context

    async def get(self, service_id: str) -> StoredService | None:
        row = (await self.session.execute(_stored().where(Service.id == service_id))).first()
        return StoredService(*row) if row else None

    async def many(self, ids: Sequence[str]) -> list[StoredService]:
        if not ids:
            return []
        rows = await self.session.execute(_stored().where(Service.id.in_(set(ids))))
        return [StoredService(*row) for row in rows]

    async def save(self, values: dict[str, Any], *, exists: bool) -> None:
        """Insert or update a service; document columns go to its service_document row."""
        documents = {k: v for k, v in values.items() if k in _DOCUMENT_COLUMNS}
        columns = {k: v for k, v in values.items() if k not in _DOCUMENT_COLUMNS}
        if not exists:
            await self.session.execute(insert(Service).values(**columns))
            await self.session.execute(
                insert(ServiceDocument).values(service_id=values["id"], **documents)
            )
            return
        if len(columns) > 1:
            await self.session.execute(
                update(Service).where(Service.id == values["id"]).values(**columns)
            )
        if documents:
            await self.session.execute(
                update(ServiceDocument)
                .where(ServiceDocument.service_id == values["id"])
                .values(**documents)
            )

    async def replace_links(
        self, service_id: str, links: Sequence[LinkRow], attributes: Sequence[AttributeRow]
    ) -> None:
        """The service's links to locations and terms become these (their fields are the
        tables' columns)."""
        children: tuple[tuple[Any, Sequence[LinkRow] | Sequence[AttributeRow]], ...] = (
            (ServiceAtLocation, links),
            (ServiceAttribute, attributes),
        )
        for table, _ in children:
            await self.session.execute(delete(table).where(table.service_id == service_id))
        for table, rows in children:
            if rows:
                await self.session.execute(
                    insert(table), [{**asdict(row), "service_id": service_id} for row in rows]
                )

    async def link_ids_owned_elsewhere(
        self, service_id: str, link_ids: Sequence[str], attribute_ids: Sequence[str]
    ) -> list[str]:
        """Those of these service_at_location and attribute ids that other services use."""
        found: list[str] = []
        for table in (ServiceAtLocation, ServiceAttribute):
            ids = link_ids if table is ServiceAtLocation else attribute_ids
            if ids:
                rows = await self.session.execute(
                    select(table.id).where(table.id.in_(set(ids)), table.service_id != service_id)
                )
                found += rows.scalars()
        return found

    async def links_of(self, service_ids: Sequence[str]) -> dict[str, list[LinkRow]]:
        return await self._children_of(
            ServiceAtLocation,
            LinkRow,
            service_ids,
            ServiceAtLocation.location_id,
            ServiceAtLocation.content,
        )

    async def attributes_of(self, service_ids: Sequence[str]) -> dict[str, list[AttributeRow]]:
        return await self._children_of(
            ServiceAttribute,
            AttributeRow,
            service_ids,
            ServiceAttribute.taxonomy_term_id,
            ServiceAttribute.link_type,
        )

    async def _children_of(
        self, table: Any, row: Callable[..., Child], service_ids: Sequence[str], *columns: Any
    ) -> dict[str, list[Child]]:
        """The rows of a table of the services' children, by service, each built by `row` from
        its id and `columns`, in id order."""
        rows = await self.session.execute(
            select(table.service_id, table.id, *columns)
            .where(table.service_id.in_(set(service_ids)))
            .order_by(table.service_id, table.id)
        )
        result: dict[str, list[Child]] = defaultdict(list)
        for service_id, *values in rows:
            result[service_id].append(row(*values))
        return result

    async def replace_facts(self, service_id: str, facts: ServiceFacts) -> None:
        await self.remove_facts(service_id)
        batches: list[tuple[Any, list[dict[str, Any]]]] = [
            (
                ServiceLanguage,
                [{"service_id": service_id, "language_code": c} for c in facts.languages],
            ),
            (
                ServiceDeliveryMode,
                [{"service_id": service_id, "delivery_mode": m} for m in facts.delivery_modes],
            ),
            (
                ServiceOpening,
                [
                    {"service_id": service_id, "weekday": d, "opens_minute": o, "closes_minute": c}
                    for d, o, c in facts.openings
                ],
            ),
            (
                ServiceAreaCode,
                [{"service_id": service_id, "area_code": a} for a in facts.area_codes],
            ),
            (
                ServicePlace,
                [
                    {
                        "service_at_location_id": link_id,
                        "service_id": service_id,
                        "location_id": location_id,
                        "latitude": latitude,
                        "longitude": longitude,
                    }
                    for link_id, location_id, latitude, longitude in facts.places
                ],
            ),
        ]
        for table, rows in batches:
            if rows:
                await self.session.execute(insert(table), rows)

    async def remove_facts(self, service_id: str) -> None:
        """A retired service is found by no search: its facts go (and before new ones come)."""
        for table in _FACT_TABLES:
            await self.session.execute(delete(table).where(table.service_id == service_id))

    # Reads

    async def minimal(self, search: ServiceFilter) -> list[tuple[str, datetime]]:
        statement = select(Service.id, Service.last_modified_at).where(*self._conditions(search))
        rows = await self.session.execute(statement.order_by(Service.id))
        return [(row[0], row[1]) for row in rows]

    async def search(
        self, search: ServiceFilter, page: Page, *, full: bool, fhir: bool = False
    ) -> tuple[int, list[Hit]]:
        """Services matching `search`: nearest first when a point is given, else by name.

        Two steps: the page of matching ids with the count of all matches, then the stored
        JSON of that page only. The matches are gathered first, as narrow rows (a materialised
        CTE), and counted and sorted from there: one pass serves count and page, and the
        planner cannot trade the filters' indexes for an ordered scan of every service.
        """
        if search.impossible:
            return 0, []
        if search.point is not None and search.radius_metres is not None:
            squared = self._squared_metres(search, ServicePlace)
            nearest = (
                select(
                    ServicePlace.service_id.label("service_id"),
                    func.min(squared).label("squared"),
                )
                .where(*self._within(search, squared, ServicePlace))
                .group_by(ServicePlace.service_id)
                .cte("nearest")
                .prefix_with("MATERIALIZED")
            )
            # Only live services have places, so the service table is joined only when a
            # filter reads its columns.
            matches: Any = select(nearest.c.service_id.label("id"), nearest.c.squared)
            if service_conditions := self._service_conditions(search):
                matches = matches.join(Service, Service.id == nearest.c.service_id).where(
                    Service.retired_at.is_(None), *service_conditions
                )
            matches = matches.where(*self._fact_conditions(search, nearest.c.service_id))
            order = ["squared", "id"]
        elif search.point is not None:
            # A point without a radius: every service, nearest first, those with no place last.
            squared = self._squared_metres(search, ServicePlace)
            nearest_all = (
                select(
                    ServicePlace.service_id.label("service_id"), func.min(squared).label("squared")
                )
                .group_by(ServicePlace.service_id)
                .subquery()
            )
            matches = (
                select(Service.id.label("id"), Service.name.label("name"), nearest_all.c.squared)
                .select_from(
                    Service.__table__.join(
                        nearest_all, nearest_all.c.service_id == Service.id, isouter=True
                    )
                )
                .where(*self._conditions(search))
            )
            order = ["unplaced", "squared", "name", "id"]
        elif not (self._service_conditions(search) or self._fact_conditions(search, Service.id)):
            # No filter: the name index yields the page directly, and the count is cheap.
            statement: AnySelect = (
                select(Service.id, literal_column("NULL"), literal_column("NULL"))
                .where(Service.retired_at.is_(None))
                .order_by(Service.name, Service.id)
            )
            rows = list(await self.session.execute(_paged(statement, page)))
            count = select(func.count()).select_from(Service).where(Service.retired_at.is_(None))
            total = (await self.session.execute(count)).scalar_one()
            return total, await self._hits(rows, full=full, fhir=fhir)
        else:
            matches = select(
                Service.id.label("id"),
                Service.name.label("name"),
                literal_column("NULL").label("squared"),
            ).where(*self._conditions(search))
            order = ["name", "id"]
        total, rows = await self._page_of_matches(matches, order, page)
        return total, await self._hits(rows, full=full, fhir=fhir)

    async def _page_of_matches(
        self, matches: Any, order: list[str], page: Page
    ) -> tuple[int, list[Any]]:
        """A page of (id, total, squared distance) rows of `matches`, sorted by its columns
        named in `order` ("unplaced": those with no distance last), and the count of all."""
        found = matches.cte("matches").prefix_with("MATERIALIZED")
        sort = [found.c.squared.is_(None) if key == "unplaced" else found.c[key] for key in order]
        statement = select(found.c.id, func.count().over(), found.c.squared).order_by(*sort)
        rows = list(await self.session.execute(_paged(statement, page)))
        if rows:
            return rows[0][1], rows
        count = select(func.count()).select_from(found)
        return (await self.session.execute(count)).scalar_one(), rows

    async def _hits(self, rows: list[Any], *, full: bool, fhir: bool) -> list[Hit]:
        """The stored JSON of a page of (id, total, squared distance) rows, in their order."""
        body = (
            ServiceDocument.fhir_resource
            if fhir
            else ServiceDocument.document
            if full
            else ServiceDocument.summary
        )
        bodies = await self._bodies(body, [row[0] for row in rows])
        return [
            Hit(row[0], *bodies[row[0]], math.sqrt(row[2]) if row[2] is not None else None)
            for row in rows
        ]

    async def search_at_locations(
        self, search: ServiceFilter, page: Page, *, full: bool
    ) -> tuple[int, list[tuple[Hit, str, str, str]]]:
        """(service hit, link id, link content, location document) for each matching pair."""
        if search.impossible:
            return 0, []
        if search.point is not None:
            squared: Any = self._squared_metres(search, ServicePlace)
            # Each link to a located place has its coordinates in service_place (index-only).
            matches: Any = select(
                ServicePlace.service_at_location_id.label("id"),
                ServicePlace.service_id.label("service_id"),
                squared.label("squared"),
            ).where(
                *self._within(search, squared, ServicePlace),
                *self._fact_conditions(search, ServicePlace.service_id),
            )
            if service_conditions := self._service_conditions(search):
                matches = matches.join(Service, Service.id == ServicePlace.service_id).where(
                    Service.retired_at.is_(None), *service_conditions
                )
            order = ["squared", "id"]
        else:
            matches = (
                select(
                    ServiceAtLocation.id.label("id"),
                    ServiceAtLocation.service_id.label("service_id"),
                    Service.name.label("name"),
                    literal_column("NULL").label("squared"),
                )
                .join(Service, Service.id == ServiceAtLocation.service_id)
                .where(*self._conditions(search))
            )
            order = ["name", "service_id", "id"]
        total, rows = await self._page_of_matches(matches, order, page)
        link_ids = [row[0] for row in rows]
        details = (
            {
                row[0]: row[1:]
                for row in await self.session.execute(
                    select(
                        ServiceAtLocation.id,
                        ServiceAtLocation.service_id,
                        ServiceAtLocation.content,
                        Location.document,
                    )
                    .join(Location, Location.id == ServiceAtLocation.location_id)
                    .where(ServiceAtLocation.id.in_(link_ids))
                )
            }
            if link_ids
            else {}
        )
        body = ServiceDocument.document if full else ServiceDocument.summary
        bodies = await self._bodies(body, list({d[0] for d in details.values()}))
        results = []
        for link_id, _, squared_value in rows:
            service_id, content, location = details[link_id]
            distance = math.sqrt(squared_value) if squared_value is not None else None
            results.append(
                (Hit(service_id, *bodies[service_id], distance), link_id, content, location)
            )
        return total, results

    async def _bodies(self, body: Any, ids: list[str]) -> dict[str, tuple[str, datetime]]:
        if not ids:
            return {}
        rows = await self.session.execute(
            select(Service.id, body, Service.last_modified_at)
            .join(ServiceDocument, ServiceDocument.service_id == Service.id)
            .where(Service.id.in_(ids))
        )
        return {row[0]: (row[1], row[2]) for row in rows}

    async def link_by_id(self, link_id: str) -> str | None:
        """The document of the live service that has the service_at_location `link_id`."""
        row = (
            await self.session.execute(
                select(ServiceDocument.document)
                .join(Service, Service.id == ServiceDocument.service_id)
                .join(ServiceAtLocation, ServiceAtLocation.service_id == Service.id)
                .where(ServiceAtLocation.id == link_id, Service.retired_at.is_(None))
            )
        ).first()
        return row[0] if row else None

    async def unassured(self, assured_before: Any) -> list[tuple[str, str, Any, datetime]]:
        """Live services never assured or last assured before `assured_before`."""
        rows = await self.session.execute(
            select(Service.id, Service.name, Service.assured_on, Service.last_modified_at)
            .where(
                Service.retired_at.is_(None),
                or_(Service.assured_on.is_(None), Service.assured_on < assured_before),
            )
            .order_by(Service.assured_on.is_not(None), Service.assured_on, Service.name)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]

    # Query building

    def _squared_metres(self, search: ServiceFilter, place: Any = Location) -> ColumnElement[float]:
        """Squared distance in metres on a local flat projection: plain arithmetic, so the
        same SQL ranks and filters on SQLite and PostgreSQL (error well under 1% at 100 km)."""
        assert search.point is not None
        x_scale = _METRES_PER_DEGREE_LONGITUDE * math.cos(math.radians(search.point.latitude))
        dx = (place.longitude - search.point.longitude) * x_scale
        dy = (place.latitude - search.point.latitude) * _METRES_PER_DEGREE_LATITUDE
        squared: ColumnElement[float] = dx * dx + dy * dy
        return squared

    def _within(
        self, search: ServiceFilter, squared: ColumnElement[float], place: Any = Location
    ) -> list[ColumnElement[bool]]:
        if search.radius_metres is None or search.point is None:
            return [place.latitude.is_not(None)]
        radius = search.radius_metres
        lat_span = radius / _METRES_PER_DEGREE_LATITUDE
        lon_span = radius / (
            _METRES_PER_DEGREE_LONGITUDE * math.cos(math.radians(search.point.latitude))
        )
        return [
            # The bounding box lets the (latitude, longitude) index do the first cut.
            place.latitude.between(
                search.point.latitude - lat_span, search.point.latitude + lat_span
            ),
            place.longitude.between(
                search.point.longitude - lon_span, search.point.longitude + lon_span
            ),
            squared <= radius * radius,
        ]

    def _conditions(self, search: ServiceFilter) -> list[ColumnElement[bool]]:
        """Every condition of `search` on the service table (live services only)."""
        return [
            Service.retired_at.is_(None),
            *self._service_conditions(search),
            *self._fact_conditions(search, Service.id),
        ]

    def _service_conditions(self, search: ServiceFilter) -> list[ColumnElement[bool]]:
        """The conditions that read the service's own columns."""
        conditions: list[ColumnElement[bool]] = []
        for word in search.text_words:
            conditions.append(contains(Service.search_text, word))
        if search.organization_ids:
            conditions.append(Service.organization_id.in_(search.organization_ids))
        if search.modified_after is not None:
            conditions.append(Service.last_modified_at >= search.modified_after)
        if search.age is not None:
            conditions.append(or_(Service.minimum_age.is_(None), Service.minimum_age <= search.age))
            conditions.append(or_(Service.maximum_age.is_(None), Service.maximum_age >= search.age))
        if search.minimum_age is not None:
            conditions.append(func.coalesce(Service.minimum_age, 0) >= search.minimum_age)
        if search.maximum_age is not None:
            conditions.append(Service.maximum_age <= search.maximum_age)
        if search.accepts_self_referral is not None:
            conditions.append(Service.accepts_self_referral.is_(search.accepts_self_referral))
        if search.free_of_charge is not None:
            conditions.append(Service.free_of_charge.is_(search.free_of_charge))
        if search.assured_since is not None:
            conditions.append(Service.assured_on >= search.assured_since)
        if search.exclude_temporarily_closed:
            conditions.append(Service.status != "temporarily closed")
        if search.name_starts:
            conditions.append(starts_with(func.lower(Service.name), search.name_starts.lower()))
        if search.name_contains:
            conditions.append(contains(func.lower(Service.name), search.name_contains.lower()))
        for prefix, moment in search.modified_bounds:
            column = Service.last_modified_at
            conditions.append(
                {
                    "ge": column >= moment,
                    "gt": column > moment,
                    "le": column <= moment,
                    "lt": column < moment,
                }[prefix]
            )
        for ids in search.id_sets:
            conditions.append(Service.id.in_(ids))
        if search.fhir_active is not None:
            active = Service.status.in_(("active", "temporarily closed"))
            conditions.append(active if search.fhir_active else ~active)
        return conditions

    def _fact_conditions(self, search: ServiceFilter, service_id: Any) -> list[ColumnElement[bool]]:
        """The conditions on the fact tables, correlated on `service_id`."""
        conditions: list[ColumnElement[bool]] = []
        for terms in search.term_sets:
            conditions.append(
                exists().where(
                    ServiceAttribute.service_id == service_id,
                    ServiceAttribute.taxonomy_term_id.in_(terms),
                )
            )
        if search.taxonomy_ids:
            conditions.append(
                exists().where(
                    ServiceAttribute.service_id == service_id,
                    ServiceAttribute.taxonomy_term_id == TaxonomyTerm.id,
                    TaxonomyTerm.taxonomy_id.in_(search.taxonomy_ids),
                )
            )
        if search.openings:
            conditions.append(
                or_(
                    *(
                        exists().where(
                            ServiceOpening.service_id == service_id,
                            ServiceOpening.weekday == wanted.weekday,
                            *(
                                [ServiceOpening.opens_minute <= wanted.start_minute]
                                if wanted.start_minute is not None
                                else []
                            ),
                            *(
                                [ServiceOpening.closes_minute >= wanted.end_minute]
                                if wanted.end_minute is not None
                                else []
                            ),
                        )
                        for wanted in search.openings
                    )
                )
            )
        if search.coverage_area_codes is not None:
            # A service without service areas is not limited to an area.
            conditions.append(
                or_(
                    ~exists().where(ServiceAreaCode.service_id == service_id),
                    exists().where(
                        ServiceAreaCode.service_id == service_id,
                        ServiceAreaCode.area_code.in_(search.coverage_area_codes),
                    ),
                )
            )
        if search.delivery_modes:
            conditions.append(
                exists().where(
                    ServiceDeliveryMode.service_id == service_id,
                    ServiceDeliveryMode.delivery_mode.in_(search.delivery_modes),
                )
            )
        if search.languages:
            conditions.append(
                exists().where(
                    ServiceLanguage.service_id == service_id,
                    ServiceLanguage.language_code.in_(search.languages),
                )
            )
        return conditions


def _paged(statement: AnySelect, page: Page) -> AnySelect:
    if page.size is None:
        return statement
    return statement.limit(page.size).offset(page.offset)
