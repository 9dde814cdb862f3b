"""The FHIR view: valid R4 resources, UK Core profiles, searches and OperationOutcomes."""

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.healthcareservice import HealthcareService
from fhir.resources.R4B.location import Location
from fhir.resources.R4B.organization import Organization

from directory_api.seed.loader import role_service_id
from signpost_schemas import systems

SPLW = role_service_id("social-prescribing-link-worker")


def entries(bundle):
    return [entry["resource"] for entry in bundle.get("entry", [])]


async def test_every_service_is_a_valid_uk_core_healthcare_service(seeded_client):
    bundle = (await seeded_client.get("/fhir/HealthcareService?_count=100")).json()

    Bundle.model_validate(bundle)
    assert bundle["total"] == 19
    for resource in entries(bundle):
        HealthcareService.model_validate(resource)
        assert resource["meta"]["profile"] == [
            "https://fhir.hl7.org.uk/StructureDefinition/UKCore-HealthcareService"
        ]


async def test_role_service_reads_with_provider_location_hours_and_referral_method(seeded_client):
    response = await seeded_client.get(f"/fhir/HealthcareService/{SPLW}")

    assert response.headers["content-type"].startswith("application/fhir+json")
    resource = response.json()
    oruk = (await seeded_client.get(f"/services/{SPLW}")).json()
    assert resource["name"] == "Social prescribing link worker"
    assert resource["providedBy"]["reference"] == f"Organization/{oruk['organization_id']}"
    assert resource["location"] == [
        {"reference": f"Location/{oruk['service_at_locations'][0]['location_id']}"}
    ]
    assert resource["availableTime"][0]["daysOfWeek"] == ["mon", "tue", "wed", "thu", "fri"]
    assert resource["referralMethod"][0]["text"].startswith("Referral from GP practice staff")
    assert resource["meta"]["lastUpdated"] == oruk["last_modified"]
    coded = {c["coding"][0]["code"] for c in resource["type"]}
    assert "social-prescribing-link-worker" in coded


async def test_search_by_service_type_name_and_near(seeded_client):
    by_type = (
        await seeded_client.get(
            f"/fhir/HealthcareService?service-type={systems.SUPPORT_OFFERED}|debt-advice"
        )
    ).json()
    by_name = (await seeded_client.get("/fhir/HealthcareService?name=social")).json()
    near = (
        await seeded_client.get("/fhir/HealthcareService?location.near=51.5416|0.0024|1|km")
    ).json()

    assert [r["name"] for r in entries(by_type)] == ["Debt advice drop-in"]
    assert [r["name"] for r in entries(by_name)] == ["Social prescribing link worker"]
    assert entries(near)[0]["name"] == "Community neighbourhood link worker"
    assert {r["name"] for r in entries(near)} == {
        "Community neighbourhood link worker",
        "Social prescribing link worker",
        "Care coordinator",
        "Health and wellbeing coach",
    }


async def test_last_updated_and_count_page_through(seeded_client):
    first = (
        await seeded_client.get("/fhir/HealthcareService?_lastUpdated=ge2020-01-01&_count=5")
    ).json()
    future = (await seeded_client.get("/fhir/HealthcareService?_lastUpdated=gt2999-01-01")).json()

    assert first["total"] == 19 and len(first["entry"]) == 5
    next_link = next(link["url"] for link in first["link"] if link["relation"] == "next")
    second = (await seeded_client.get(next_link)).json()
    assert len(second["entry"]) == 5
    assert not {r["id"] for r in entries(first)} & {r["id"] for r in entries(second)}
    assert future["total"] == 0


async def test_locations_and_organisations_are_valid_uk_core(seeded_client):
    locations = (await seeded_client.get("/fhir/Location?_count=100")).json()
    organizations = (await seeded_client.get("/fhir/Organization?_count=100")).json()

    for resource in entries(locations):
        Location.model_validate(resource)
    for resource in entries(organizations):
        Organization.model_validate(resource)
    stratford = (await seeded_client.get("/fhir/Location?name=Stratford+Library")).json()
    [library] = entries(stratford)
    assert library["address"]["postalCode"] == "E15 1DA"
    assert library["position"] == {"latitude": 51.5416, "longitude": 0.0024}
    read = await seeded_client.get(f"/fhir/Location/{library['id']}")
    assert read.json() == library


async def test_capability_statement_lists_what_is_supported(seeded_client):
    statement = (await seeded_client.get("/fhir/metadata")).json()

    CapabilityStatement.model_validate(statement)
    resources = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert set(resources) == {"HealthcareService", "Location", "Organization"}
    names = {p["name"] for p in resources["HealthcareService"]["searchParam"]}
    assert {"service-type", "name", "location.near", "_lastUpdated"} <= names


async def test_fhir_errors_are_operation_outcomes_with_expression(seeded_client):
    unknown = await seeded_client.get(
        "/fhir/HealthcareService?colour=blue", headers={"Prefer": "handling=strict"}
    )
    bad_near = await seeded_client.get("/fhir/HealthcareService?location.near=north")
    missing = await seeded_client.get(
        "/fhir/HealthcareService/5c1b2f7e-0a0a-4b4b-8c8c-9d9d9d9d9d9d"
    )
    bad_count = await seeded_client.get("/fhir/HealthcareService?_count=lots")

    for response, status, expression in (
        (unknown, 400, "colour"),
        (bad_near, 400, "location.near"),
        (missing, 404, "HealthcareService.id"),
        (bad_count, 400, "_count"),
    ):
        assert response.status_code == status
        outcome = response.json()
        assert outcome["resourceType"] == "OperationOutcome"
        assert outcome["issue"][0]["expression"] == [expression]


async def test_fhir_search_ignores_an_unknown_parameter_with_a_warning_entry(seeded_client):
    response = await seeded_client.get("/fhir/HealthcareService?colour=blue&_count=1000")

    assert response.status_code == 200
    bundle = response.json()
    outcomes = [e for e in bundle["entry"] if e["search"]["mode"] == "outcome"]
    assert len(outcomes) == 1
    issue = outcomes[0]["resource"]["issue"][0]
    assert (issue["severity"], issue["expression"]) == ("warning", ["colour"])
    self_link = next(link["url"] for link in bundle["link"] if link["relation"] == "self")
    assert "colour" not in self_link
    assert "_count=100&" in self_link or "_count=100" in self_link.split("?")[1].split("&")


@pytest.mark.parametrize("resource_type", ["HealthcareService", "Location", "Organization"])
async def test_fhir_searches_take_id(seeded_client, resource_type):
    every = (await seeded_client.get(f"/fhir/{resource_type}?_count=2")).json()
    first = every["entry"][0]["resource"]["id"]

    bundle = (
        await seeded_client.get(
            f"/fhir/{resource_type}?_id={first}", headers={"Prefer": "handling=strict"}
        )
    ).json()

    assert [e["resource"]["id"] for e in bundle["entry"]] == [first]
    assert bundle["total"] == 1


@pytest.mark.parametrize("resource_type", ["Location", "Organization"])
async def test_location_and_organization_searches_take_last_updated(seeded_client, resource_type):
    strict = {"Prefer": "handling=strict"}
    before = await seeded_client.get(
        f"/fhir/{resource_type}?_lastUpdated=lt2000-01-01", headers=strict
    )
    since = await seeded_client.get(
        f"/fhir/{resource_type}?_lastUpdated=ge2000-01-01", headers=strict
    )
    every = await seeded_client.get(f"/fhir/{resource_type}")

    assert before.json()["total"] == 0
    assert since.json()["total"] == every.json()["total"] > 0
