"""fhirpy against a real referral-api, for the rest of the personalised-care record: a care and
support plan (create, read, search by referral and person, update of the plan as read, the one
plan per referral) and consent to share (recorded, searched, withdrawn by a new Consent), each
with fhirpy's own methods, nothing sent by hand.
"""

from typing import Any

import pytest
from fhirpy import AsyncFHIRClient
from fhirpy.base.exceptions import OperationOutcome

from signpost_schemas import systems
from signpost_schemas.fhir.consent import CONSENT_SCOPE, PATIENT_PRIVACY
from tests.clients import scenario
from tests.referral.careplans import plans
from tests.support.builders import NHS_NUMBERS

PERSON = NHS_NUMBERS[3]
PERSON_TOKEN = f"{systems.NHS_NUMBER}|{PERSON}"


@pytest.fixture
def fhir(referral_url: str) -> AsyncFHIRClient:
    return AsyncFHIRClient(referral_url, authorization=scenario.TOKEN)


async def _referral(fhir: AsyncFHIRClient, identifier: str) -> str:
    referral = fhir.resource("ServiceRequest", **scenario.referral(identifier, PERSON))
    await referral.save()
    return str(referral.id)


def _consent(status: str, provision: str, at: str) -> dict[str, Any]:
    return {
        "status": status,
        "scope": {"coding": [{"system": CONSENT_SCOPE, "code": PATIENT_PRIVACY}]},
        "category": [{"coding": [{"system": systems.LOINC, "code": "59284-0"}]}],
        "patient": {"identifier": {"system": systems.NHS_NUMBER, "value": PERSON}},
        "dateTime": at,
        "organization": [{"identifier": {"system": systems.ODS_ORGANIZATION, "value": "F84001"}}],
        "provision": {"type": provision},
    }


async def test_a_care_plan_is_created_read_searched_and_updated(fhir):
    referral_id = await _referral(fhir, "PLAN-1")
    body = plans.care_plan(referral_id)
    plan = fhir.resource("CarePlan", **{k: v for k, v in body.items() if k != "resourceType"})

    await plan.save()

    assert plan["meta"]["versionId"] == "1"
    read = await fhir.reference("CarePlan", plan.id).to_resource()
    assert read["basedOn"][0]["reference"] == f"ServiceRequest/{referral_id}"
    assert [goal.reference for goal in read["goal"]] == ["#goal-1"]
    by_referral = await fhir.resources("CarePlan").search(**{"based-on": referral_id}).fetch_all()
    by_person = fhir.resources("CarePlan").search(**{"patient.identifier": PERSON_TOKEN})
    assert [p.id for p in by_referral] == [plan.id]
    assert [p.id for p in await by_person.fetch_all()] == [plan.id]

    read["status"] = "completed"
    await read.save()  # the plan as served, sent back with its meta.versionId

    stored = await fhir.reference("CarePlan", plan.id).to_resource()
    assert (stored["status"], stored["meta"]["versionId"]) == ("completed", "2")
    active = fhir.resources("CarePlan").search(**{"based-on": referral_id, "status": "active"})
    assert await active.count() == 0


async def test_a_second_plan_for_a_referral_is_refused_naming_the_first(fhir):
    referral_id = await _referral(fhir, "PLAN-2")
    body = {k: v for k, v in plans.care_plan(referral_id).items() if k != "resourceType"}
    first = fhir.resource("CarePlan", **body)
    await first.save()

    with pytest.raises(OperationOutcome) as refused:
        await fhir.resource("CarePlan", **body).save()

    assert first.id in str(refused.value)
    assert await fhir.resources("CarePlan").search(**{"based-on": referral_id}).count() == 1


async def test_consent_is_recorded_searched_and_withdrawn(fhir):
    given = fhir.resource("Consent", **_consent("active", "permit", "2026-11-02T10:00:00Z"))
    await given.save()
    assert given["policyRule"]["coding"][0]["code"] == "OPTIN"

    withdrawn = fhir.resource("Consent", **_consent("inactive", "permit", "2026-11-20T10:00:00Z"))
    await withdrawn.save()

    search = fhir.resources("Consent").search(**{"patient.identifier": PERSON_TOKEN})
    assert sorted(c.id for c in await search.fetch_all()) == sorted([given.id, withdrawn.id])
    inactive = await search.search(status="inactive").fetch_all()
    assert [c.id for c in inactive] == [withdrawn.id]
