"""directory-api search latency and throughput at 50,000 services, on PostgreSQL.

Loads 50,000 synthetic London services (500 organisations, one located place each spread over
inner and outer London, schedules, languages, service types) into a migrated database,
rendering every stored document with the service's own code, then measures in one run, under
the same uvicorn settings and workers:
- a bare FastAPI endpoint (the yardstick for requests/s);
- postcode + 5 km proximity search (`/services?postcode=E15 1DA&proximity=5000`);
- text search (`/services?search=debt`), and both combined with a need;
- a fully nested `/services/{id}` and the FHIR `location.near` search.
Latency is measured at light load (2 connections: what one link worker waits) and throughput
at 32 connections. Target: p95 <= 50 ms for the proximity and text searches at light load.
"""

import argparse
import asyncio
import random
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import orjson
from sqlalchemy import insert, text

from bench.common import Load, bare_rps, drop, migrated_postgres, resident_memory, serve, wrk
from directory_api.changes.models import Change
from directory_api.documents.facts import service_facts
from directory_api.documents.fhir import (
    healthcare_service_resource,
    location_resource,
    organization_resource,
)
from directory_api.documents.oruk import (
    location_document,
    organization_document,
    service_document,
    service_summary,
)
from directory_api.documents.shape import content_of
from directory_api.locations.models import Location
from directory_api.locations.schemas import LocationIn
from directory_api.organizations.models import Organization
from directory_api.organizations.schemas import OrganizationIn
from directory_api.seed import loader
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
from directory_api.services.repository import StoredService
from directory_api.services.schemas import ServiceIn
from directory_api.services.service import _NOT_CONTENT
from directory_api.taxonomy.repository import TaxonomyRepository
from signpost_platform.db import Database
from signpost_schemas import codes, systems
from signpost_schemas.geography import sample_postcode_lookup

SERVICES = 50_000
ORGANIZATIONS = 500
BATCH = 1_000
LATENCY_TARGET_MS = 50.0
_WORDS = (
    "community",
    "advice",
    "support",
    "drop-in",
    "group",
    "centre",
    "project",
    "hub",
    "club",
    "clinic",
    "network",
    "line",
    "service",
    "café",
    "circle",
)
_LANGUAGES = (
    ("en", "English"),
    ("bn", "Bengali"),
    ("ur", "Urdu"),
    ("so", "Somali"),
    ("pl", "Polish"),
    ("ro", "Romanian"),
    ("tr", "Turkish"),
    ("pa", "Punjabi"),
)
_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
SEARCH_POSTCODE = "E15 1DA"
LONDON_LATITUDE = (51.38, 51.62)
LONDON_LONGITUDE = (-0.35, 0.20)


def _rows(
    count: int, term_documents: dict[str, dict[str, Any]], seed: int = 20261122
) -> dict[Any, list[dict[str, Any]]]:
    """Every row to insert, rendered as the service renders them (terms by service-type code)."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    postcodes = list(sample_postcode_lookup().values())
    types = list(codes.support_offered())
    type_terms = {c.code: loader.term_id(c.system, c.code) for c in types}
    taxonomy_uris = {loader.SERVICE_TYPES_TAXONOMY: systems.SUPPORT_OFFERED}
    rows: dict[Any, list[dict[str, Any]]] = {
        table: []
        for table in (
            Organization,
            Location,
            Service,
            ServiceDocument,
            ServiceAtLocation,
            ServiceAttribute,
            ServiceLanguage,
            ServiceDeliveryMode,
            ServiceOpening,
            ServiceAreaCode,
            ServicePlace,
            Change,
        )
    }
    organizations = []
    for index in range(ORGANIZATIONS):
        organization_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        payload = OrganizationIn(
            id=organization_id,
            name=f"{rng.choice(_WORDS).title()} Trust {index} (synthetic)",
            description="A synthetic London voluntary organisation.",
            website=f"https://org{index}.example",
        )
        document = organization_document(organization_id, payload)
        organizations.append(document)
        rows[Organization].append(
            {
                "id": organization_id,
                "name": payload.name,
                "search_text": payload.name.lower(),
                "document": orjson.dumps(document).decode(),
                "fhir_resource": orjson.dumps(organization_resource(document, now)).decode(),
                "version": 1,
                "last_modified_at": now,
                "input_digest": "bench",
            }
        )
    for index in range(count):
        # Spread over inner and outer London (about 27 x 38 km), each tagged with the nearest
        # sample postcode's areas: a 5 km circle holds some 7% of the services.
        latitude = rng.uniform(*LONDON_LATITUDE)
        longitude = rng.uniform(*LONDON_LONGITUDE)
        area = min(
            postcodes,
            key=lambda a: (a.latitude - latitude) ** 2 + ((a.longitude - longitude) * 0.62) ** 2,
        )
        service_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        location_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        link_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        organization = rng.choice(organizations)
        kind = rng.choice(types)
        location = LocationIn(
            id=location_id,
            location_type="physical",
            name=f"Venue {index}",
            latitude=round(latitude, 6),
            longitude=round(longitude, 6),
            addresses=[
                {
                    "address_1": f"{index % 300 + 1} High Street",
                    "city": "London",  # type: ignore[list-item]
                    "state_province": "Greater London",
                    "postal_code": area.postcode,
                }
            ],
        )
        location_doc = location_document(location_id, location, None)
        rows[Location].append(
            {
                "id": location_id,
                "organization_id": None,
                "location_type": "physical",
                "name": location.name,
                "postcode": area.postcode,
                "latitude": location.latitude,
                "longitude": location.longitude,
                "document": orjson.dumps(location_doc).decode(),
                "fhir_resource": orjson.dumps(location_resource(location_doc, now)).decode(),
                "version": 1,
                "last_modified_at": now,
                "input_digest": "bench",
            }
        )
        days = ",".join(sorted(rng.sample(_DAYS, rng.randint(1, 5)), key=_DAYS.index))
        opens = rng.choice((8, 9, 10, 13))
        languages = [_LANGUAGES[0], *rng.sample(_LANGUAGES[1:], rng.randint(0, 2))]
        payload = ServiceIn.model_validate(
            {
                "id": service_id,
                "organization_id": organization["id"],
                "name": f"{kind.display} {rng.choice(_WORDS)} {index}",
                "description": f"{kind.display} in {area.local_authority_name}: "
                f"{rng.choice(_WORDS)} {rng.choice(_WORDS)} for local residents.",
                "status": "active",
                "minimum_age": rng.choice((None, 16, 18)),
                "assured_date": (date.today() - timedelta(days=rng.randint(0, 400))).isoformat(),
                "accepts_self_referral": rng.random() < 0.6,
                "languages": [{"code": c, "name": n} for c, n in languages],
                "schedules": [
                    {
                        "freq": "WEEKLY",
                        "byday": days,
                        "opens_at": f"{opens:02d}:00",
                        "closes_at": f"{opens + 4:02d}:00",
                    }
                ],
                "service_areas": [
                    {
                        "name": area.local_authority_name,
                        "uri": "http://statistics.data.gov.uk/id/statistical-geography/"
                        f"{area.local_authority_code}",
                    }
                ],
                "service_at_locations": [{"id": link_id, "location_id": location_id}],
                "attributes": [{"taxonomy_term_id": type_terms[kind.code]}],
            }
        )
        content = content_of(payload, exclude=_NOT_CONTENT)
        for key in ("schedules", "languages", "service_areas"):
            content[key] = [
                {**child, "id": str(uuid.uuid4()), "service_id": service_id}
                for child in content[key]
            ]
        stored = StoredService(
            service_id,
            organization["id"],
            payload.name,
            "active",
            "",
            "",
            "",
            "",
            0,
            now,
            now,
            None,
            "bench",
        )
        attribute_id = str(uuid.uuid4())
        document = service_document(
            stored,
            content,
            organization,
            [
                {
                    "id": link_id,
                    "service_id": service_id,
                    "location_id": location_id,
                    "location": location_doc,
                }
            ],
            [
                {
                    "id": attribute_id,
                    "link_id": service_id,
                    "link_type": "service_type",
                    "link_entity": "service",
                    "taxonomy_term_id": type_terms[kind.code],
                    "taxonomy_term": term_documents[kind.code],
                }
            ],
            now,
        )
        facts = service_facts(document)
        rows[Service].append(
            {
                "id": service_id,
                "organization_id": organization["id"],
                "name": payload.name,
                "status": "active",
                "search_text": facts.search_text,
                "minimum_age": payload.minimum_age,
                "maximum_age": None,
                "assured_on": payload.assured_date,
                "accepts_self_referral": payload.accepts_self_referral,
                "free_of_charge": facts.free_of_charge,
                "version": 1,
                "created_at": now,
                "last_modified_at": now,
                "input_digest": "bench",
            }
        )
        summary = service_summary(document, organization)
        rows[ServiceDocument].append(
            {
                "service_id": service_id,
                "content": orjson.dumps(content).decode(),
                "document": orjson.dumps(document).decode(),
                "summary": orjson.dumps(summary).decode(),
                "fhir_resource": orjson.dumps(
                    healthcare_service_resource(document, now, taxonomy_uris)
                ).decode(),
            }
        )
        rows[ServiceAtLocation].append(
            {"id": link_id, "service_id": service_id, "location_id": location_id, "content": "{}"}
        )
        rows[ServiceAttribute].append(
            {
                "id": attribute_id,
                "service_id": service_id,
                "taxonomy_term_id": type_terms[kind.code],
                "link_type": "service_type",
            }
        )
        rows[ServiceLanguage] += [
            {"service_id": service_id, "language_code": c} for c in facts.languages
        ]
        rows[ServiceDeliveryMode] += [
            {"service_id": service_id, "delivery_mode": m} for m in facts.delivery_modes
        ]
        rows[ServiceOpening] += [
            {"service_id": service_id, "weekday": d, "opens_minute": o, "closes_minute": c}
            for d, o, c in facts.openings
        ]
        rows[ServiceAreaCode] += [
            {"service_id": service_id, "area_code": a} for a in facts.area_codes
        ]
        rows[ServicePlace] += [
            {
                "service_at_location_id": link,
                "service_id": service_id,
                "location_id": lid,
                "latitude": lat,
                "longitude": lon,
            }
            for link, lid, lat, lon in facts.places
        ]
        rows[Change].append(
            {
                "kind": "service",
                "record_id": service_id,
                "change_number": 1_000_000 + index,
                "state": "updated",
                "changed_at": now,
            }
        )
    return rows


async def load(url: str, count: int) -> float:
    """Seed the reference data, then bulk insert `count` services; returns seconds taken."""
    started = time.monotonic()
    database = Database(url)
    try:
        async with database.sessionmaker() as session, session.begin():
            await loader.load_sample_postcodes(session)
            await loader.seed_reference(session)
        async with database.sessionmaker() as session:
            type_terms = {c.code: loader.term_id(c.system, c.code) for c in codes.support_offered()}
            stored = await TaxonomyRepository(session).terms(list(type_terms.values()))
            term_documents = {
                code: orjson.loads(stored[term].document) for code, term in type_terms.items()
            }
        rows = _rows(count, term_documents)
        async with database.sessionmaker() as session, session.begin():
            for table, values in rows.items():
                for start in range(0, len(values), BATCH):
                    await session.execute(insert(table), values[start : start + BATCH])
        async with database.engine.connect() as connection:
            await connection.execute(text("COMMIT"))
            await connection.execute(text("VACUUM ANALYZE"))
    finally:
        await database.dispose()
    return time.monotonic() - started


def run(count: int, connections: int) -> dict[str, Any]:
    bare = bare_rps(connections)
    database = migrated_postgres("directory")
    results: dict[str, Any] = {"bare": bare}
    try:
        seconds = asyncio.run(load(database, count))
        print(f"loaded {count} services in {seconds:.0f} s")
        env = {
            "DIRECTORY_DATABASE_URL": database,
            "DIRECTORY_LOG_LEVEL": "WARNING",
            "DIRECTORY_SEED_ON_STARTUP": "false",
        }
        with serve("directory_api.main:create_app", env=env) as url:
            some_id = httpx.get(f"{url}/services?per_page=1&search=debt").json()["contents"][0][
                "id"
            ]
            postcode = SEARCH_POSTCODE.replace(" ", "%20")
            targets = {
                "postcode + 5 km proximity": f"{url}/services?postcode={postcode}&proximity=5000",
                "text search": f"{url}/services?search=debt",
                "need + postcode + 5 km": f"{url}/services?need=160932005&postcode={postcode}"
                "&proximity=5000",
                "service at locations, 5 km": f"{url}/service_at_locations?postcode={postcode}"
                "&proximity=5000",
                "fully nested /services/{id}": f"{url}/services/{some_id}",
                "FHIR location.near 5 km": f"{url}/fhir/HealthcareService?location.near="
                "51.5416|0.0024|5|km",
            }
            for name, target in targets.items():
                response = httpx.get(target, timeout=30)
                assert response.status_code == 200, (name, response.text[:300])
                wrk(target, duration=2, connections=2)  # warm-up
                light = wrk(target, connections=2, threads=1)
                heavy = wrk(target, connections=connections)
                results[name] = (light, heavy, response.json().get("total_items"))
            resident_memory(url, "directory-api")
    finally:
        drop(database)
    return report(results, count)


def report(results: dict[str, Any], count: int) -> dict[str, Any]:
    bare: Load = results.pop("bare")
    print(f"directory-api on PostgreSQL, {count} services (uvicorn, uvloop/httptools)")
    print(bare.row("bare FastAPI GET /ping"))
    summary: dict[str, Any] = {"bare": bare.as_dict()}
    for name, (light, heavy, total) in results.items():
        matches = f" ({total} matches)" if total is not None else ""
        print(f"{name}{matches}")
        print("  " + light.row("light load, 2 connections")[:-13])
        print("  " + heavy.row("32 connections") + f"  = {heavy.rps / bare.rps:.2f} x bare")
        summary[name] = {
            "light": light.as_dict(),
            "heavy": heavy.as_dict(),
            "ratio_to_bare": round(heavy.rps / bare.rps, 3),
        }
    for name in ("postcode + 5 km proximity", "text search"):
        p95 = results[name][0].p95_ms
        print(
            f"{name}: p95 {p95:.1f} ms at light load (target <= {LATENCY_TARGET_MS:.0f} ms) "
            f"{'MET' if p95 <= LATENCY_TARGET_MS else 'MISSED'}"
        )
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--services", type=int, default=SERVICES)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args(argv)
    run(args.services, args.connections)
    return 0


if __name__ == "__main__":
    sys.exit(main())
