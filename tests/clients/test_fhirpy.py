"""fhirpy (beda-software's FHIR client for Python, async API) against a real referral-api: each
flow as an integrator writes it with fhirpy's own methods, nothing sent by hand.

- create `resource.save()`; conditional create `search(identifier=…).get_or_create(resource)`
  (fhirpy sends the condition as the query of the POST);
- read `reference.to_resource()`; search; paging by the Bundle's next links (`fetch_all`);
  `count()` (`_count=0`);
- update `resource.save()` on the resource as read: fhirpy sends no If-Match, so its
  `meta.versionId` names the version replaced; a stale copy is refused (412, which fhirpy
  raises as `MultipleResourcesFound`);
- `$process-message` with `client.execute`.
"""

from typing import Any

import pytest
from fhirpy import AsyncFHIRClient
from fhirpy.base.exceptions import MultipleResourcesFound

from tests.clients import scenario
from tests.support.builders import fresh_nhs_number


@pytest.fixture
def fhir(referral_url: str) -> AsyncFHIRClient:
    return AsyncFHIRClient(referral_url, authorization=scenario.TOKEN)


async def _create_all(fhir: AsyncFHIRClient, bodies: list[dict[str, Any]]) -> None:
    for body in bodies:
        await fhir.resource("ServiceRequest", **body).save()


def _identifiers(resources: list[Any]) -> list[str]:
    return sorted(r["identifier"][0]["value"] for r in resources)


async def test_capability_statement_names_version_aware_updates(fhir):
    statement = await fhir.execute("metadata", method="get")

    assert statement["resourceType"] == "CapabilityStatement"
    assert statement["fhirVersion"] == "4.0.1"
    [service_request] = [
        r for r in statement["rest"][0]["resource"] if r["type"] == "ServiceRequest"
    ]
    assert {"create", "read", "update", "search-type"} <= {
        i["code"] for i in service_request["interaction"]
    }
    assert service_request["versioning"] == "versioned-update"


async def test_create(fhir):
    referral = fhir.resource("ServiceRequest", **scenario.referral("CREATE-1"))

    await referral.save()

    assert referral.id
    assert referral["meta"]["versionId"] == "1"
    stored = await fhir.resources("ServiceRequest").search(_id=referral.id).fetch()
    assert _identifiers(stored) == ["CREATE-1"]


async def test_conditional_create_returns_the_existing_referral(fhir):
    first = fhir.resource("ServiceRequest", **scenario.referral("CONDITIONAL-1"))
    await first.save()
    again = fhir.resource("ServiceRequest", **scenario.referral("CONDITIONAL-1"))

    found, created = (
        await fhir.resources("ServiceRequest")
        .search(identifier=f"{scenario.EMIS_ID}|CONDITIONAL-1")
        .get_or_create(again)
    )

    assert created is False
    assert found.id == first.id
    same = fhir.resources("ServiceRequest").search(identifier=f"{scenario.EMIS_ID}|CONDITIONAL-1")
    assert await same.count() == 1


async def test_read(fhir):
    created = fhir.resource("ServiceRequest", **scenario.referral("READ-1"))
    await created.save()

    read = await fhir.reference("ServiceRequest", created.id).to_resource()

    assert read.id == created.id
    assert read["identifier"] == created["identifier"]
    assert read["meta"]["versionId"] == "1"


async def test_search(fhir):
    await _create_all(fhir, scenario.searched())

    found = await fhir.resources("ServiceRequest").search(**scenario.SEARCH).fetch_all()

    assert _identifiers(found) == scenario.SEARCH_MATCHES


async def test_search_by_the_person_as_fhirpy_chains_it(fhir):
    """`subject__identifier` reaches the service as the chain `subject.identifier`: that person's
    referrals only, not every referral the caller may see."""
    person, other = fresh_nhs_number(), fresh_nhs_number()
    await _create_all(
        fhir, [scenario.referral("CHAIN-1", person), scenario.referral("CHAIN-2", other)]
    )

    found = await (
        fhir.resources("ServiceRequest")
        .search(subject__identifier=f"{scenario.NHS_NUMBER}|{person}")
        .fetch_all()
    )

    assert _identifiers(found) == ["CHAIN-1"]


async def test_search_follows_next_links_across_pages(fhir):
    await _create_all(fhir, scenario.paged())
    search = fhir.resources("ServiceRequest").search(**scenario.PAGING).limit(scenario.PAGE_SIZE)

    first_page = await search.fetch()
    everything = await search.fetch_all()

    assert len(first_page) == scenario.PAGE_SIZE
    assert _identifiers(everything) == [f"PAGED-{n}" for n in range(scenario.PAGED)]


async def test_count(fhir):
    await _create_all(fhir, scenario.counted())

    total = await fhir.resources("ServiceRequest").search(**scenario.COUNT).count()

    assert total == scenario.COUNT_TOTAL


async def test_update_saves_the_resource_as_read(fhir):
    await fhir.resource("ServiceRequest", **scenario.referral("UPDATE-1")).save()
    [referral] = await fhir.resources("ServiceRequest").search(identifier="UPDATE-1").fetch()

    referral["status"] = "on-hold"
    await referral.save()

    assert referral["meta"]["versionId"] == "2"
    stored = await fhir.reference("ServiceRequest", referral.id).to_resource()
    assert stored["status"] == "on-hold"
    assert stored["meta"]["versionId"] == "2"


async def test_update_of_a_stale_copy_is_refused(fhir):
    created = fhir.resource("ServiceRequest", **scenario.referral("STALE-1"))
    await created.save()
    mine = await fhir.reference("ServiceRequest", created.id).to_resource()
    theirs = await fhir.reference("ServiceRequest", created.id).to_resource()
    mine["status"] = "on-hold"
    await mine.save()

    theirs["status"] = "revoked"
    with pytest.raises(MultipleResourcesFound, match="current version is 2"):  # fhirpy's 412
        await theirs.save()

    stored = await fhir.reference("ServiceRequest", created.id).to_resource()
    assert (stored["status"], stored["meta"]["versionId"]) == ("on-hold", "2")


async def test_process_message(fhir):
    response = await fhir.execute("$process-message", data=scenario.new_referral_message())

    assert (response["resourceType"], response["type"]) == ("Bundle", "message")
    header = response["entry"][0]["resource"]
    assert header["response"]["code"] == "ok"
    found = await fhir.resources("ServiceRequest").search(identifier="MESSAGE-1").fetch()
    assert _identifiers(found) == ["MESSAGE-1"]
