"""Linkage across organisations: no oracle, no version bump.

A referral for a person another organisation also referred shows that link with the other
referral's role, date and link type, not its id; and the other organisation's referral keeps its
version (its next If-Match still applies), because links are rendered when a referral is served.
"""

from signpost_schemas.fhir import profiles
from tests.security.bodies import new_referral
from tests.support.builders import fresh_nhs_number
from tests.support.clients import bearer

FIRST = bearer("referral:write", "referral:read", ods="F84001")
SECOND = bearer("referral:write", "referral:read", ods="Y02494")


def links(resource):
    return [
        {part["url"]: part for part in e["extension"]}
        for e in resource.get("extension", [])
        if e["url"] == profiles.LINKED_REFERRAL_EXTENSION
    ]


async def test_a_link_to_another_organisations_referral_names_no_id_and_bumps_no_version(
    referral,
):
    nhs_number = fresh_nhs_number()
    first_body = new_referral(nhs_number=nhs_number, role="care-navigator", requester="F84001")
    first = await referral.post("/fhir/ServiceRequest", json=first_body, headers=FIRST)
    assert first.status_code == 201, first.text
    first = first.json()

    second = await referral.post(
        "/fhir/ServiceRequest",
        json=new_referral(
            nhs_number=nhs_number,
            role="community-connector",
            requester="Y02494",
            authored="2026-10-05T10:00:00Z",
        ),
        headers=SECOND,
    )

    assert second.status_code == 201, second.text
    (shown,) = links(second.json())
    assert "referral" not in shown
    assert first["id"] not in second.text
    assert shown["type"]["valueCode"] == "concurrent-other-role"
    assert shown["role"]["valueCoding"]["code"] == "care-navigator"
    assert shown["authoredOn"]["valueDateTime"].startswith("2026-10-01")

    first_now = await referral.get(f"/fhir/ServiceRequest/{first['id']}", headers=FIRST)
    assert first_now.headers["ETag"] == 'W/"1"'
    (back,) = links(first_now.json())
    assert "referral" not in back
    assert back["role"]["valueCoding"]["code"] == "community-connector"

    first_body["id"] = first["id"]
    first_body["status"] = "on-hold"
    updated = await referral.put(
        f"/fhir/ServiceRequest/{first['id']}",
        json=first_body,
        headers={**FIRST, "If-Match": 'W/"1"'},
    )
    assert updated.status_code == 200, updated.text


async def test_a_caller_who_can_read_both_referrals_sees_the_linked_id(referral):
    nhs_number = fresh_nhs_number()
    first = await referral.post(
        "/fhir/ServiceRequest",
        json=new_referral(nhs_number=nhs_number, role="care-navigator", requester="F84001"),
        headers=FIRST,
    )
    second = await referral.post(
        "/fhir/ServiceRequest",
        json=new_referral(nhs_number=nhs_number, role="community-connector", requester="F84001"),
        headers=FIRST,
    )

    (shown,) = links(second.json())
    assert shown["referral"]["valueReference"]["reference"] == (
        f"ServiceRequest/{first.json()['id']}"
    )
