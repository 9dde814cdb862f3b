"""directory-api's OpenAPI examples, captured from a real run on the synthetic London sample.

`python -m tests.support.directory_examples` rewrites
`services/directory-api/src/directory_api/data/openapi-examples.json` from a fresh SQLite
directory-api seeded with the reference taxonomies and the synthetic sample: every read answers
from the sample, then a curator records one organisation, location, taxonomy, term and service
through their lives (created, created again, updated, assured, imported, retired).
tests/directory/test_openapi_examples.py runs the journey again on both databases and fails
when the answers no longer match the committed file (ids, instants and dates aside).
"""

import asyncio
from typing import Any

import httpx

from directory_api.config import DirectorySettings
from directory_api.main import create_app
from tests.directory import builders
from tests.support.captured_examples import Capture, examples_file, rebuild
from tests.support.clients import bearer

EXAMPLES_FILE = examples_file("directory")
BASE_URL = "https://directory.signpost.nhs.example"
WRITE = bearer("directory:write")

# Every organisation, location and service the curator records is invented (`.example`).
ORGANIZATION = builders.organization(id="8a3f2b9e-1c4d-4e5f-9a6b-7c8d9e0f1a2b")
LOCATION = builders.location(id="3b7e9d21-5a6c-4f80-b1d2-e3f4a5b6c7d8")
TAXONOMY = {
    "id": "0f1e2d3c-4b5a-4968-8776-5a4b3c2d1e0f",
    "name": "Newham local needs",
    "description": "Local terms for Newham services",
    "uri": "https://newham-directory.example/taxonomy/local-needs",
    "version": "1",
}
TERM = {
    "id": "6e5d4c3b-2a19-4807-b6a5-948372615f4e",
    "name": "Warm spaces",
    "description": "Heated places open to the public in winter",
    "code": "warm-spaces",
    "taxonomy_id": TAXONOMY["id"],
}
SERVICE = builders.service(
    ORGANIZATION["id"], [LOCATION["id"]], id="c5d6e7f8-9a0b-4c1d-8e2f-3a4b5c6d7e8f"
)
ASSURANCE = {"assurer_email": "curator@newham-directory.example", "assured_date": "2026-11-01"}


async def capture(client: httpx.AsyncClient) -> dict[str, dict[str, Any]]:
    """Every operation of directory-api once (creates twice: 201, then 200 for the repeat)."""
    run = Capture(client)
    await _reads(run)
    await _curation(run)
    return run.examples


async def _reads(run: Capture) -> None:
    await run.call("getAPIMetaInformation", "GET", "/")
    for listing, single, path in (
        ("getPaginatedListOfServices", "getFullyNestedServiceById", "/services"),
        (
            "getPaginatedListOfServiceAtLocation",
            "getServiceAtLocationWithNestedDataById",
            "/service_at_locations",
        ),
        ("getPaginatedListOfOrganizations", "getOrganizationById", "/organizations"),
        ("getPaginatedListOfTaxonomies", "getTaxonomyById", "/taxonomies"),
        ("getPaginatedListOfTaxonomyTerms", "getTaxonomyTermById", "/taxonomy_terms"),
    ):
        page = await run.call(listing, "GET", path, params={"per_page": 1})
        await run.call(single, "GET", f"{path}/{page.json()['contents'][0]['id']}")
    await run.call("getChanges", "GET", "/changes", params={"limit": 1})
    await run.call("unassuredServices", "GET", "/reports/unassured", headers=WRITE)
    await run.call("directoryCapabilities", "GET", "/fhir/metadata")
    for search, read, resource_type in (
        ("searchHealthcareService", "readHealthcareService", "HealthcareService"),
        ("searchLocation", "readLocation", "Location"),
        ("searchOrganization", "readOrganization", "Organization"),
    ):
        bundle = await run.call(search, "GET", f"/fhir/{resource_type}", params={"_count": 1})
        found = bundle.json()["entry"][0]["resource"]["id"]
        await run.call(read, "GET", f"/fhir/{resource_type}/{found}")


async def _curation(run: Capture) -> None:
    for create, update, path, record, change in (
        (
            "createOrganization",
            "updateOrganization",
            "/organizations",
            ORGANIZATION,
            {"description": "Community centre, advice and a food bank in Forest Gate."},
        ),
        (
            "createLocation",
            "updateLocation",
            "/locations",
            LOCATION,
            {"name": "Forest Gate community centre (main hall)"},
        ),
        ("createTaxonomy", "updateTaxonomy", "/taxonomies", TAXONOMY, {"version": "2"}),
        (
            "createTaxonomyTerm",
            "updateTaxonomyTerm",
            "/taxonomy_terms",
            TERM,
            {"description": "Heated places open to anyone in winter"},
        ),
        (
            "createService",
            "updateService",
            "/services",
            SERVICE,
            {"description": "Free help with debts, benefits and energy bills."},
        ),
    ):
        for _ in range(2):  # a repeat with the same id and content answers 200
            await run.call(create, "POST", path, json=record, headers=WRITE)
        await run.call(update, "PUT", f"{path}/{record['id']}", json=record | change, headers=WRITE)
    await run.call("getLocation", "GET", f"/locations/{LOCATION['id']}", headers=WRITE)
    service = f"/services/{SERVICE['id']}"
    await run.call("assureService", "POST", f"{service}/assure", json=ASSURANCE, headers=WRITE)
    # An import takes services as `GET /services/{id}` serves them, or as they are created.
    imported = (
        SERVICE
        | ASSURANCE
        | {
            "id": "d1e2f3a4-b5c6-4d7e-8f90-a1b2c3d4e5f6",
            "name": "Forest Gate energy advice",
            "description": "Help with energy bills and warm homes grants.",
        }
    )
    job = await run.call("importServices", "POST", "/imports", json=[imported], headers=WRITE)
    await run.call("getImport", "GET", f"/imports/{job.json()['id']}", headers=WRITE)
    # The imported service shares the location: retired too, so the location can be.
    retired = await run.client.post(f"/services/{imported['id']}/retire", headers=WRITE)
    retired.raise_for_status()
    for operation_id, path in (
        ("retireTaxonomyTerm", f"/taxonomy_terms/{TERM['id']}"),
        ("retireService", service),
        ("retireLocation", f"/locations/{LOCATION['id']}"),
        ("retireOrganization", f"/organizations/{ORGANIZATION['id']}"),
    ):
        await run.call(operation_id, "POST", f"{path}/retire", headers=WRITE)


def settings(database_url: str) -> DirectorySettings:
    """A directory seeded with the reference taxonomies and the synthetic sample."""
    return DirectorySettings(
        database_url=database_url,
        environment="test",
        seed_on_startup=True,
        seed_sample_services=True,
    )


if __name__ == "__main__":
    asyncio.run(rebuild("directory", lambda url: create_app(settings(url)), BASE_URL, capture))
