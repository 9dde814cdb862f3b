"""`GET /audit` follows the organisation rule on referral-api and screening-api.

A caller whose token names an organisation sees only the events its own organisation's callers
made; `audit:all-organisations` sees every event; a token with neither is 403. Before, any
`audit:read` token read every organisation's events, and the ids their searches returned.
"""

from tests.screening.builders import barts_answers, screening_response
from tests.security.bodies import SCREENING_WRITE, new_referral
from tests.support.builders import fresh_nhs_number
from tests.support.clients import bearer

F84001 = bearer("referral:write", "referral:read", ods="F84001")
OWN_AUDITOR = bearer("audit:read", ods="F84001")
OTHER_AUDITOR = bearer("audit:read", ods="Y02494")
EVERY_AUDITOR = bearer("audit:read", "audit:all-organisations")
NO_ORGANISATION = bearer("audit:read")


async def test_another_organisation_does_not_see_a_referrals_events(referral):
    created = await referral.post(
        "/fhir/ServiceRequest",
        json=new_referral(nhs_number=fresh_nhs_number(), requester="F84001"),
        headers=F84001,
    )
    referral_id = created.json()["id"]
    await referral.get(f"/fhir/ServiceRequest/{referral_id}", headers=F84001)
    await referral.get(
        "/fhir/ServiceRequest", params={"_count": "500", "requester": "F84001"}, headers=F84001
    )

    other = await referral.get("/audit", params={"limit": 500}, headers=OTHER_AUDITOR)
    own = await referral.get("/audit", params={"resource_id": referral_id}, headers=OWN_AUDITOR)
    every = await referral.get("/audit", params={"resource_id": referral_id}, headers=EVERY_AUDITOR)

    assert other.status_code == 200, other.text
    assert referral_id not in other.text
    assert {e.get("organisation_ods") for e in other.json()["events"]} <= {"Y02494"}
    assert [e["action"] for e in own.json()["events"]] == ["read", "create"]
    assert [e["action"] for e in every.json()["events"]] == ["read", "create"]


async def test_an_audit_token_without_an_organisation_or_the_all_scope_is_403(referral, screening):
    for client in (referral, screening):
        response = await client.get("/audit", headers=NO_ORGANISATION)

        assert response.status_code == 403, response.text


async def test_screening_events_of_other_callers_are_not_shown_to_an_organisation(screening):
    created = await screening.post(
        "/fhir/QuestionnaireResponse",
        json=screening_response(barts_answers()),
        headers=SCREENING_WRITE,
    )
    assert created.status_code == 201, created.text
    response_id = created.json()["id"]

    other = await screening.get(
        "/audit", params={"resource_id": response_id}, headers=OTHER_AUDITOR
    )
    every = await screening.get(
        "/audit", params={"resource_id": response_id}, headers=EVERY_AUDITOR
    )

    assert other.json()["events"] == []
    assert [e["action"] for e in every.json()["events"]] == ["create"]
