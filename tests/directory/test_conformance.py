"""ORUK conformance: the validator's level 1 (required) and level 2 (optional) checks pass."""

import pytest

from directory_api.seed.loader import SERVICE_TYPES_TAXONOMY
from signpost_schemas import codes
from tests.directory.oruk_validator import openapi, schema_errors, validate_feed


async def test_api_details_name_the_uk_profile_and_an_absolute_openapi_url(seeded_client):
    response = await seeded_client.get("/")

    body = response.json()
    assert schema_errors("api_details.json", body) == []
    # The validator strips "HSDS-UK-" and parses the rest as the spec version.
    assert float(body["version"].removeprefix("HSDS-UK-")) == 3.0
    assert body["openapi_url"] == "http://directory.test/openapi.json"
    assert (await seeded_client.get(body["openapi_url"])).status_code == 200


@pytest.mark.parametrize("per_page", [None, 4], ids=["default page size", "many pages"])
async def test_level_1_required_endpoints_pass(seeded_client, per_page):
    results = await validate_feed(seeded_client, per_page)

    required = {r.path: r.problems for r in results if r.level == 1 and r.path != "/"}
    assert set(required) == {"/services", "/services/{id}"}
    assert required == {"/services": [], "/services/{id}": []}
    [root] = [r for r in results if r.path == "/"]
    assert root.problems == []


@pytest.mark.parametrize("per_page", [None, 3], ids=["default page size", "many pages"])
async def test_level_2_optional_endpoints_pass_with_no_warnings(seeded_client, per_page):
    results = await validate_feed(seeded_client, per_page)

    optional = {r.path: r.problems for r in results if r.level == 2}
    assert set(optional) == {
        p for p in openapi()["paths"] if p not in ("/", "/services", "/services/{id}")
    }
    assert all(problems == [] for problems in optional.values()), optional


async def test_every_id_endpoint_was_exercised_with_real_ids(seeded_client):
    results = await validate_feed(seeded_client)

    for result in results:
        if "{id}" in result.path:
            assert result.tested_urls, result.path


async def test_fully_nested_service_carries_locations_terms_and_organisation(seeded_client):
    listing = (await seeded_client.get("/services?search=debt+advice+drop-in")).json()
    [item] = listing["contents"]

    service = (await seeded_client.get(f"/services/{item['id']}")).json()

    assert schema_errors("service.json", service) == []
    assert service["organization"]["name"] == "Newham Citizens Advice (synthetic)"
    [link] = service["service_at_locations"]
    assert link["location"]["addresses"][0]["postal_code"] == "E6 1HR"
    assert link["location"]["latitude"] == pytest.approx(51.5334)
    assert service["attributes"][0]["taxonomy_term"]["name"] == "Debt advice"
    assert service["attributes"][0]["taxonomy_term"]["term"] == "Debt advice"
    assert service["schedules"][0]["byday"] == "MO,WE"
    assert service["last_modified"].endswith("Z") and len(service["last_modified"]) == 24


async def test_cors_header_on_every_response_including_errors(seeded_client):
    for url in (
        "/",
        "/services",
        "/services/not-a-uuid",
        "/services/7f0a6d0e-1111-4222-8333-944455556666",
        "/fhir/metadata",
        "/services?page=0",
    ):
        response = await seeded_client.get(url)
        assert response.headers["access-control-allow-origin"] == "*", url


async def test_cors_preflight_is_answered(seeded_client):
    response = await seeded_client.options(
        "/services",
        headers={"Origin": "https://finder.example", "Access-Control-Request-Method": "GET"},
    )

    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "*"


async def test_reads_need_no_authentication(seeded_client):
    for url in (
        "/services",
        "/service_at_locations",
        "/organizations",
        "/taxonomies",
        "/taxonomy_terms",
        "/changes",
    ):
        assert (await seeded_client.get(url)).status_code == 200, url


async def test_page_past_the_end_is_empty_not_an_error(seeded_client):
    body = (await seeded_client.get("/services?page=99")).json()

    assert body["contents"] == [] and body["empty"] is True and body["size"] == 0
    assert body["total_items"] == 19 and body["page_number"] == 99


async def test_taxonomy_terms_filter_by_taxonomy_parent_and_top_only(seeded_client):
    service_types = SERVICE_TYPES_TAXONOMY
    top = (
        await seeded_client.get(
            f"/taxonomy_terms?taxonomy_id={service_types}&top_only=true&per_page=200"
        )
    ).json()
    finance = next(t for t in top["contents"] if t["code"] == "group:finance")
    children = (await seeded_client.get(f"/taxonomy_terms?parent_id={finance['id']}")).json()

    assert all("parent_id" not in t for t in top["contents"])
    assert {t["code"] for t in children["contents"]} == {"benefits-welfare-advice", "debt-advice"}
    taxonomy = (await seeded_client.get(f"/taxonomies/{service_types}")).json()
    assert len(taxonomy["taxonomy_terms"]) == top["total_items"] + len(codes.support_offered())
