"""People without an NHS number (a new arrival, someone not registered with a GP) are referred
under the sender's own patient identifier: kept, linked, searchable and counted as one person,
and joined with their NHS number once a message or an update brings the two together."""

from typing import Any

from referral_api.referrals.repository import ReferralRepository
from referral_api.rendering.service_request import subject_identifier_of
from signpost_schemas import systems
from signpost_schemas.fhir import profiles
from tests.referral.conftest import READ, WRITE, send
from tests.support.builders import NHS_NUMBERS, service_request
from tests.support.clients import bearer
from tests.support.messages import emis_service_request, full_url, message, task
from tests.support.rows import fetch_rows

RIO_PATIENT = "https://rio.example/patient-id"
LOCAL = {"system": RIO_PATIENT, "value": "RIO-000123"}
PERSON = NHS_NUMBERS[2]
REPORTS = bearer("reports:read", "reports:unsuppressed")


def local_request(identifier: str, role: str, authored: str, **subject: Any) -> dict[str, Any]:
    body = service_request(identifier=identifier, role=role, authored=authored)
    body["subject"] = {"identifier": subject or dict(LOCAL)}
    return body


async def create(client, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post("/fhir/ServiceRequest", json=body, headers=WRITE)
    assert response.status_code == 201, response.text
    return response.json()


def links(resource: dict[str, Any]) -> list[tuple[str, str]]:
    found = []
    for extension in resource.get("extension", []):
        if extension["url"] == profiles.LINKED_REFERRAL_EXTENSION:
            parts = {p["url"]: p for p in extension["extension"]}
            found.append(
                (
                    parts["referral"]["valueReference"]["reference"].removeprefix(
                        "ServiceRequest/"
                    ),
                    parts["type"]["valueCode"],
                )
            )
    return sorted(found)


async def read(client, referral_id: str) -> dict[str, Any]:
    return (await client.get(f"/fhir/ServiceRequest/{referral_id}", headers=READ)).json()


async def search(client, value: str) -> set[str]:
    response = await client.get(
        "/fhir/ServiceRequest", params={"patient.identifier": value}, headers=READ
    )
    assert response.status_code == 200, response.text
    return {entry["resource"]["id"] for entry in response.json().get("entry", [])}


async def people_in_report(client) -> tuple[int, int]:
    response = await client.get("/reports/referrals", headers=REPORTS)
    assert response.status_code == 200, response.text
    total = response.json()["totals"][0]
    return total["referrals"], total["people"]


async def test_a_referral_without_an_nhs_number_is_kept_under_the_local_identifier(
    client, referral_app
):
    created = await create(client, local_request("R1", "care-navigator", "2026-10-01T10:00:00Z"))

    assert created["subject"]["identifier"] == LOCAL
    [row] = await fetch_rows(referral_app, "SELECT nhs_number, person_key FROM referral")
    assert row["nhs_number"] is None
    assert row["person_key"].startswith("local-")
    assert await fetch_rows(
        referral_app,
        "SELECT identifier_system, identifier_value, person_key FROM person_identifier",
    ) == [
        {
            "identifier_system": RIO_PATIENT,
            "identifier_value": "RIO-000123",
            "person_key": row["person_key"],
        }
    ]


async def test_a_subject_naming_nobody_is_refused_with_422(client, referral_app):
    body = service_request()
    body["subject"] = {"display": "Synthetic Person"}

    response = await client.post("/fhir/ServiceRequest", json=body, headers=WRITE)

    assert response.status_code == 422
    [issue] = response.json()["issue"]
    assert issue["expression"] == ["ServiceRequest.subject.identifier"]


async def test_an_nhs_number_failing_modulus_11_is_still_refused(client, referral_app):
    response = await client.post(
        "/fhir/ServiceRequest", json=service_request(nhs_number="9434765918"), headers=WRITE
    )

    assert response.status_code == 422
    assert response.json()["issue"][0]["expression"] == ["ServiceRequest.subject.identifier.value"]


async def test_two_roles_for_one_local_identifier_are_linked_and_found_by_it(client, referral_app):
    first = await create(client, local_request("R1", "care-navigator", "2026-10-01T10:00:00Z"))
    second = await create(
        client, local_request("R2", "community-connector", "2026-10-20T10:00:00Z")
    )
    someone_else = await create(
        client,
        local_request(
            "R3",
            "health-and-wellbeing-coach",
            "2026-10-21T10:00:00Z",
            system=RIO_PATIENT,
            value="RIO-000999",
        ),
    )

    assert links(second) == [(first["id"], "concurrent-other-role")]
    assert links(await read(client, first["id"])) == [(second["id"], "concurrent-other-role")]
    assert links(await read(client, someone_else["id"])) == []
    assert await search(client, f"{RIO_PATIENT}|RIO-000123") == {first["id"], second["id"]}
    assert await search(client, f"{RIO_PATIENT}|RIO-000999") == {someone_else["id"]}
    assert await search(client, "https://emis.example/patient-id|RIO-000123") == set()
    assert await people_in_report(client) == (3, 2)


async def test_a_local_identifier_without_its_system_is_not_a_search_for_it(client):
    response = await client.get(
        "/fhir/ServiceRequest", params={"patient.identifier": "RIO-000123"}, headers=READ
    )

    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["patient.identifier"]


def patient(*identifiers: dict[str, str]) -> dict[str, Any]:
    return {"resourceType": "Patient", "id": "pat-1", "identifier": list(identifiers)}


def pointing_at_patient(request: dict[str, Any], key: str) -> dict[str, Any]:
    """A BaRS ServiceRequest whose subject is only a reference to the message's Patient."""
    request["subject"] = {"reference": full_url("Patient", key)}
    return request


async def two_local_referrals_and_one_by_nhs_number(client) -> list[dict[str, Any]]:
    """R1 and R2 for the person known by the local identifier (care navigator on 1 October,
    community connector on 5 October); R3 for PERSON by NHS number (coach, 10 October)."""
    return [
        await create(client, local_request("R1", "care-navigator", "2026-10-01T10:00:00Z")),
        await create(client, local_request("R2", "community-connector", "2026-10-05T10:00:00Z")),
        await create(
            client,
            service_request(
                identifier="R3",
                role="health-and-wellbeing-coach",
                authored="2026-10-10T10:00:00Z",
                nhs_number=PERSON,
            ),
        ),
    ]


async def test_a_message_bringing_the_nhs_number_with_the_local_identifier_joins_the_person(
    client, referral_app
):
    navigator, connector, coach = await two_local_referrals_and_one_by_nhs_number(client)
    assert await people_in_report(client) == (3, 2)

    # Rio now knows the NHS number: its Patient carries both identifiers.
    request = pointing_at_patient(
        emis_service_request(
            "EMIS-9",
            nhs_number=PERSON,
            role="social-prescribing-link-worker",
            authored="2026-10-12T09:00:00Z",
        ),
        "RIO-000123",
    )
    both = patient(dict(LOCAL), {"system": systems.NHS_NUMBER, "value": PERSON})
    response = await send(
        client, message(request, reason_code="new", patient=both, timestamp="2026-10-12T09:05:00Z")
    )
    assert response.status_code == 200, response.text

    rows = await fetch_rows(referral_app, "SELECT DISTINCT person_key FROM referral")
    assert rows == [{"person_key": PERSON}]
    [mapped] = await fetch_rows(referral_app, "SELECT person_key FROM person_identifier")
    assert mapped["person_key"] == PERSON
    ids = {navigator["id"], connector["id"], coach["id"]}
    everyone = await search(client, PERSON)
    assert ids < everyone and len(everyone) == 4
    assert await search(client, f"{RIO_PATIENT}|RIO-000123") == everyone
    # Linkage is recomputed over the joined person: the coach (NHS number) and the local
    # referrals are now parallel referrals of one person.
    assert (navigator["id"], "concurrent-other-role") in links(await read(client, coach["id"]))
    assert (coach["id"], "concurrent-other-role") in links(await read(client, connector["id"]))
    assert await people_in_report(client) == (4, 1)


async def test_a_message_with_only_a_local_identifier_creates_the_referral(client, referral_app):
    request = pointing_at_patient(emis_service_request("EMIS-7"), "RIO-000123")
    accepted = task("t-1", status="accepted", accepted="2026-10-02T09:00:00Z")
    response = await send(
        client,
        message(
            request,
            accepted,
            reason_code="new",
            patient=patient(dict(LOCAL)),
            timestamp="2026-10-02T09:05:00Z",
        ),
    )
    assert response.status_code == 200, response.text

    [referral] = (await client.get("/fhir/ServiceRequest", headers=READ)).json()["entry"]
    assert referral["resource"]["subject"]["identifier"] == LOCAL
    tasks = (
        await client.get("/fhir/Task", params={"focus": referral["resource"]["id"]}, headers=READ)
    ).json()["entry"]
    assert tasks[0]["resource"]["for"]["identifier"] == LOCAL
    [person] = await fetch_rows(referral_app, "SELECT nhs_number FROM referral_person")
    assert person["nhs_number"] is None
    later = await create(
        client, local_request("R2", "health-and-wellbeing-coach", "2026-10-03T10:00:00Z")
    )
    assert links(later) == [(referral["resource"]["id"], "concurrent-other-role")]


async def test_a_message_patient_without_any_identifier_is_refused(client, referral_app):
    request = pointing_at_patient(emis_service_request("EMIS-7"), "nobody")
    nobody = patient({"value": "nobody"})  # a value without a system identifies no one

    response = await send(
        client,
        message(request, reason_code="new", patient=nobody, timestamp="2026-10-02T09:05:00Z"),
    )

    assert response.status_code == 422
    expressions = [e for issue in response.json()["issue"] for e in issue["expression"]]
    assert "Bundle.entry[1].resource.subject.identifier" in expressions, expressions


async def test_an_update_replacing_the_local_identifier_by_the_nhs_number_joins_the_person(
    client, referral_app
):
    first, second, other = await two_local_referrals_and_one_by_nhs_number(client)

    current = await read(client, first["id"])
    current["subject"] = {"identifier": {"system": systems.NHS_NUMBER, "value": PERSON}}
    response = await client.put(
        f"/fhir/ServiceRequest/{first['id']}",
        json=current,
        headers={**WRITE, "If-Match": f'W/"{current["meta"]["versionId"]}"'},
    )
    assert response.status_code == 200, response.text

    rows = await fetch_rows(referral_app, "SELECT id, nhs_number, person_key FROM referral")
    assert {r["person_key"] for r in rows} == {PERSON}
    by_id = {r["id"]: r["nhs_number"] for r in rows}
    assert by_id == {first["id"]: PERSON, second["id"]: None, other["id"]: PERSON}
    assert (other["id"], "concurrent-other-role") in links(await read(client, second["id"]))
    assert await people_in_report(client) == (3, 1)


async def test_the_subject_of_a_referral_held_is_the_one_its_resource_names(client, referral_app):
    # Message processing takes the subject from the NHS number column when there is one, and
    # reads the stored resource only for a sender's own patient identifier.
    by_nhs_number = await create(client, service_request(identifier="EMIS-0001", nhs_number=PERSON))
    by_local = await create(
        client, local_request("RIO-REF-1", "care-navigator", "2026-10-02T10:00:00Z")
    )
    async with referral_app.state.database.sessionmaker() as session:
        repository = ReferralRepository(session)
        held = [await repository.for_update(r["id"]) for r in (by_nhs_number, by_local)]
        await session.rollback()

    assert [h.subject for h in held if h is not None] == [
        (systems.NHS_NUMBER, PERSON),
        (RIO_PATIENT, "RIO-000123"),
    ]
    assert [h.subject == subject_identifier_of(h.stored.resource) for h in held if h] == [
        True,
        True,
    ]
