"""Consent for information sharing: recorded, read and searched; refused when it cannot be
stored safely; and honoured: a person who withdrew is left out of the linked referrals shown
to other organisations and of bulk exports, which count them."""

from typing import Any

import httpx
import pytest
from fhir.resources.R4B.consent import Consent

from referral_api.export.worker import ExportWorker
from signpost_schemas import systems
from signpost_schemas.fhir.consent import CONSENT_SCOPE, PATIENT_PRIVACY
from tests.referral.conftest import READ, WRITE
from tests.referral.export.conftest import files, finished, kick_off
from tests.support.builders import fresh_nhs_number, service_request
from tests.support.clients import bearer

GP = "F84001"
OTHER_GP = "F84002"


def consent(
    nhs_number: str,
    *,
    status: str = "active",
    provision: str = "permit",
    at: str = "2026-11-02T10:00:00Z",
    organisation: str = GP,
    referral: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceType": "Consent",
        "status": status,
        "scope": {"coding": [{"system": CONSENT_SCOPE, "code": PATIENT_PRIVACY}]},
        "category": [{"coding": [{"system": systems.LOINC, "code": "59284-0"}]}],
        "patient": {"identifier": {"system": systems.NHS_NUMBER, "value": nhs_number}},
        "dateTime": at,
        "organization": [
            {"identifier": {"system": systems.ODS_ORGANIZATION, "value": organisation}}
        ],
        "provision": {"type": provision},
    }
    if referral is not None:
        reference = {"reference": f"ServiceRequest/{referral}"}
        body["provision"]["data"] = [{"meaning": "related", "reference": reference}]
    body.update(extra)
    return body


def organisation(ods: str) -> dict[str, str]:
    return bearer("referral:read", "referral:write", ods=ods)


def performer(ods: str) -> list[dict[str, Any]]:
    return [{"identifier": {"system": systems.ODS_ORGANIZATION, "value": ods}}]


async def record(
    client: httpx.AsyncClient, body: dict[str, Any], headers: dict[str, str] = WRITE
) -> dict[str, Any]:
    response = await client.post("/fhir/Consent", json=body, headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def refer(client: httpx.AsyncClient, **fields: Any) -> str:
    response = await client.post(
        "/fhir/ServiceRequest", json=service_request(**fields), headers=WRITE
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_a_consent_is_recorded_read_and_searched(client: httpx.AsyncClient) -> None:
    person = fresh_nhs_number()
    referral = await refer(client, identifier="C-1", nhs_number=person)
    created = await record(
        client,
        consent(person, referral=referral),
    )
    assert created["meta"]["versionId"] == "1"
    assert created["policyRule"]["coding"][0]["code"] == "OPTIN"
    read = await client.get(f"/fhir/Consent/{created['id']}", headers=READ)
    assert read.status_code == 200
    assert read.json() == created
    Consent.model_validate(created)
    found = await client.get(
        "/fhir/Consent",
        params={"patient:identifier": f"{systems.NHS_NUMBER}|{person}", "status": "active"},
        headers=READ,
    )
    assert found.status_code == 200
    assert [e["resource"]["id"] for e in found.json()["entry"]] == [created["id"]]
    none = await client.get(
        "/fhir/Consent", params={"status": "inactive", "patient.identifier": person}, headers=READ
    )
    assert none.json()["total"] == 0
    # Another organisation neither recorded it nor sees the referral.
    elsewhere = await client.get(f"/fhir/Consent/{created['id']}", headers=organisation("Y09999"))
    assert elsewhere.status_code == 404


async def test_a_retried_consent_is_recorded_once(client: httpx.AsyncClient) -> None:
    body = consent(
        fresh_nhs_number(),
        identifier=[{"system": "https://emis.example/Id/consent", "value": "CN-1"}],
    )
    first = await client.post("/fhir/Consent", json=body, headers=WRITE)
    again = await client.post("/fhir/Consent", json=body, headers=WRITE)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert (await client.get("/fhir/Consent", headers=READ)).json()["total"] == 1
    elsewhere = await client.post(
        "/fhir/Consent", json={**body, "organization": []}, headers=organisation(OTHER_GP)
    )
    assert elsewhere.status_code == 409


@pytest.mark.parametrize(
    ("change", "status", "expression"),
    [
        (
            {"scope": {"coding": [{"system": CONSENT_SCOPE, "code": "research"}]}},
            422,
            "Consent.scope",
        ),
        ({"patient": {"reference": "Patient/1"}}, 400, "Consent.patient"),
        (
            {"patient": {"identifier": {"system": systems.NHS_NUMBER, "value": "1234567890"}}},
            422,
            "Consent.patient",
        ),
        ({"category": []}, 400, "Consent.category"),
        ({"status": "withdrawn"}, 422, "Consent.status"),
        ({"note": [{"text": "x"}]}, 400, "Consent.note"),
    ],
    ids=["scope", "no-nhs-number", "invalid-nhs-number", "no-category", "status", "unknown"],
)
async def test_a_consent_that_cannot_be_stored_safely_is_refused(
    client: httpx.AsyncClient, change: dict[str, Any], status: int, expression: str
) -> None:
    response = await client.post(
        "/fhir/Consent", json={**consent(fresh_nhs_number()), **change}, headers=WRITE
    )
    assert response.status_code == status, response.text
    assert expression in response.json()["issue"][0]["expression"][0]
    assert (await client.get("/fhir/Consent", headers=READ)).json()["total"] == 0


async def test_a_consent_for_another_organisation_or_person_is_refused(
    client: httpx.AsyncClient,
) -> None:
    person = fresh_nhs_number()
    other = await refer(client, identifier="C-2", nhs_number=fresh_nhs_number())
    response = await client.post(
        "/fhir/Consent", json=consent(person, organisation=OTHER_GP), headers=organisation(GP)
    )
    assert response.status_code == 403
    response = await client.post(
        "/fhir/Consent", json=consent(person, referral=other), headers=WRITE
    )
    assert response.status_code == 422
    assert response.json()["issue"][0]["expression"] == ["Consent.provision.data[0].reference"]
    assert (await client.get("/fhir/Consent", headers=READ)).json()["total"] == 0


async def _links(client: httpx.AsyncClient, referral: str, headers: dict[str, str]) -> list[Any]:
    response = await client.get(f"/fhir/ServiceRequest/{referral}", headers=headers)
    assert response.status_code == 200, response.text
    return [e for e in response.json().get("extension", []) if e["url"].endswith("LinkedReferral")]


async def test_withdrawn_consent_hides_linkage_from_other_organisations(
    client: httpx.AsyncClient,
) -> None:
    person = fresh_nhs_number()
    mine = await refer(
        client, identifier="L-1", nhs_number=person, requester=GP, authored="2026-10-01T10:00:00Z"
    )
    theirs = await refer(
        client,
        identifier="L-2",
        nhs_number=person,
        requester=OTHER_GP,
        role="health-and-wellbeing-coach",
        authored="2026-10-05T10:00:00Z",
    )
    assert len(await _links(client, theirs, organisation(OTHER_GP))) == 1
    assert len(await _links(client, mine, organisation(GP))) == 1

    await record(client, consent(person, status="inactive", at="2026-11-01T09:00:00Z"))
    # Other organisations no longer learn of the person's other referral...
    assert await _links(client, theirs, organisation(OTHER_GP)) == []
    assert await _links(client, mine, organisation(GP)) == []
    # ...while a caller who may read both still sees the link.
    assert len(await _links(client, mine, READ)) == 1

    # Consent given again, later: the links are shown again.
    await record(client, consent(person, at="2026-11-20T09:00:00Z"))
    assert len(await _links(client, theirs, organisation(OTHER_GP))) == 1


async def test_withdrawn_people_are_left_out_of_exports_and_counted(
    client: httpx.AsyncClient, worker: ExportWorker
) -> None:
    sharing, withdrawn = fresh_nhs_number(), fresh_nhs_number()
    await refer(client, identifier="E-1", nhs_number=sharing)
    await refer(client, identifier="E-2", nhs_number=withdrawn)
    await refer(client, identifier="E-3", nhs_number=withdrawn, role="care-coordinator")
    await record(client, consent(sharing))
    await record(client, consent(withdrawn, provision="deny"))

    manifest = await finished(client, worker, await kick_off(client))
    assert manifest["extension"]["withdrawnConsent"] == {"referrals": 2, "people": 1}
    exported = await files(client, manifest)
    assert withdrawn not in str(exported)
    assert [r["subject"]["identifier"]["value"] for r in exported["ServiceRequest"]] == [sharing]
    assert [r["patient"]["identifier"]["value"] for r in exported["Consent"]] == [sharing]
