"""Everyday SNOMED CT reasons and text-only reasons are kept, grouped where possible, found."""

from urllib.parse import quote

from signpost_schemas import systems
from tests.referral.conftest import READ, WRITE
from tests.support.builders import service_request
from tests.support.rows import fetch_rows

DEPRESSED_MOOD = "366979004"
LIVES_ALONE = "105529008"


def _gp_referral() -> dict:
    return service_request(
        reasons=[
            {"coding": [{"system": systems.SNOMED, "code": DEPRESSED_MOOD, "display": "Low mood"}]},
            {"coding": [{"system": systems.SNOMED, "code": LIVES_ALONE}], "text": "Widowed"},
            {"text": "Struggling since the bus route was cut"},
        ]
    )


async def test_a_gp_referral_with_everyday_snomed_findings_is_kept_and_found_by_each_code(
    client, referral_app
):
    response = await client.post("/fhir/ServiceRequest", json=_gp_referral(), headers=WRITE)

    assert response.status_code == 201, response.text
    served = response.json()
    assert served["reasonCode"] == _gp_referral()["reasonCode"]  # as sent, display and all
    for code in (DEPRESSED_MOOD, LIVES_ALONE):
        found = await client.get(
            f"/fhir/ServiceRequest?reason-code={quote(f'{systems.SNOMED}|{code}')}", headers=READ
        )
        assert found.status_code == 200, found.text
        assert [e["resource"]["id"] for e in found.json()["entry"]] == [served["id"]]
    rows = await fetch_rows(
        referral_app,
        "SELECT rank, reason_system, reason_code, reason_text, reason_group "
        "FROM referral_reason WHERE referral_id = :id ORDER BY rank",
        id=served["id"],
    )
    assert [(r["reason_code"], r["reason_text"], r["reason_group"]) for r in rows] == [
        (DEPRESSED_MOOD, None, "unmapped"),
        (LIVES_ALONE, "Widowed", "unmapped"),
        ("uncoded", "Struggling since the bus route was cut", "uncoded"),
    ]


async def test_a_snomed_source_of_referral_outside_the_list_is_kept_as_unmapped(
    client, referral_app
):
    body = service_request(source=(systems.SNOMED, "3457005"))  # Patient referral

    response = await client.post("/fhir/ServiceRequest", json=body, headers=WRITE)

    assert response.status_code == 201, response.text
    rows = await fetch_rows(
        referral_app,
        "SELECT source_of_referral_code, source_of_referral_group FROM referral",
    )
    assert rows == [{"source_of_referral_code": "3457005", "source_of_referral_group": "unmapped"}]


async def test_a_listed_reason_keeps_its_shipped_group(client, referral_app):
    response = await client.post("/fhir/ServiceRequest", json=service_request(), headers=WRITE)

    assert response.status_code == 201
    rows = await fetch_rows(referral_app, "SELECT reason_group FROM referral_reason ORDER BY rank")
    assert [r["reason_group"] for r in rows] == ["housing", "finance", "isolation-loneliness"]
