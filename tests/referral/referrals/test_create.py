"""Creating referrals: POST /fhir/ServiceRequest, plain and conditional."""

import asyncio

import pytest
from fhir.resources.R4B.servicerequest import ServiceRequest as R4BServiceRequest

from tests.referral.conftest import READ, WRITE
from tests.support.builders import service_request
from tests.support.conflicts import failing_once
from tests.support.rows import count_rows, fetch_rows

IDENTIFIER = "https://emis.example/referral-id|EMIS-0001"


async def test_create_returns_201_with_location_etag_and_server_meta(client):
    response = await client.post("/fhir/ServiceRequest", json=service_request(), headers=WRITE)

    assert response.status_code == 201
    body = response.json()
    assert response.headers["location"] == (
        f"http://referral.test/fhir/ServiceRequest/{body['id']}/_history/1"
    )
    assert response.headers["etag"] == 'W/"1"'
    assert response.headers["content-type"].startswith("application/fhir+json")
    assert body["meta"]["versionId"] == "1"
    assert body["meta"]["lastUpdated"].endswith("Z")


async def test_created_referral_is_valid_fhir_r4(client):
    response = await client.post("/fhir/ServiceRequest", json=service_request(), headers=WRITE)

    parsed = R4BServiceRequest.model_validate(response.json())
    assert [c.coding[0].code for c in parsed.reasonCode] == ["105531004", "160932005", "422650009"]


async def test_every_reason_is_stored_as_its_own_row_with_its_rank(client, referral_app):
    response = await client.post("/fhir/ServiceRequest", json=service_request(), headers=WRITE)

    rows = await fetch_rows(
        referral_app,
        "SELECT rank, reason_code, reason_text FROM referral_reason WHERE referral_id = :id "
        "ORDER BY rank",
        id=response.json()["id"],
    )
    assert rows == [
        {"rank": 1, "reason_code": "105531004", "reason_text": "Damp flat"},
        {"rank": 2, "reason_code": "160932005", "reason_text": None},
        {"rank": 3, "reason_code": "422650009", "reason_text": None},
    ]


async def test_searchable_columns_are_normalised_from_the_resource(client, referral_app):
    body = service_request(role="care-navigator", requester="f84001")
    body["subject"]["identifier"]["system"] = "https://fhir.nhs.uk/id/nhs-number"  # BaRS spelling
    body["subject"]["identifier"]["value"] = "943 476 5919"
    response = await client.post("/fhir/ServiceRequest", json=body, headers=WRITE)

    assert response.status_code == 201
    [row] = await fetch_rows(
        referral_app,
        "SELECT nhs_number, requester_ods, received_by_role, source_of_referral_code FROM referral",
    )
    assert row == {
        "nhs_number": "9434765919",
        "requester_ods": "F84001",
        "received_by_role": "care-navigator",
        "source_of_referral_code": "108161000000109",
    }
    stored = response.json()
    assert stored["subject"]["identifier"] == {
        "system": "https://fhir.nhs.uk/Id/nhs-number",
        "value": "9434765919",
    }


async def test_reason_not_recorded_is_accepted_on_its_own(client, referral_app):
    body = service_request(
        reasons=[
            {
                "coding": [
                    {
                        "system": "https://signpost.nhs.example/CodeSystem/referral-reason",
                        "code": "reason-not-recorded",
                    }
                ]
            }
        ]
    )
    response = await client.post("/fhir/ServiceRequest", json=body, headers=WRITE)

    assert response.status_code == 201
    assert await fetch_rows(referral_app, "SELECT reason_code FROM referral_reason") == [
        {"reason_code": "reason-not-recorded"}
    ]


async def test_subject_display_is_not_stored_because_names_are_not_kept(client):
    body = service_request()
    body["subject"]["display"] = "Synthetic Person"
    response = await client.post("/fhir/ServiceRequest", json=body, headers=WRITE)

    assert response.status_code == 201
    assert "display" not in response.json()["subject"]
    assert "Synthetic Person" not in response.text


async def test_conditional_create_returns_existing_referral(client, referral_app):
    headers = {**WRITE, "If-None-Exist": f"identifier={IDENTIFIER}"}
    first = await client.post("/fhir/ServiceRequest", json=service_request(), headers=headers)
    second = await client.post("/fhir/ServiceRequest", json=service_request(), headers=headers)

    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["id"] == first.json()["id"]
    assert second.headers["etag"] == 'W/"1"'
    assert await count_rows(referral_app, "referral") == 1


async def test_conditional_create_accepts_a_url_encoded_header(client, referral_app):
    encoded = "identifier=https%3A%2F%2Femis.example%2Freferral-id%7CEMIS-0001"
    headers = {**WRITE, "If-None-Exist": encoded}
    await client.post("/fhir/ServiceRequest", json=service_request(), headers=headers)
    again = await client.post("/fhir/ServiceRequest", json=service_request(), headers=headers)

    assert again.status_code == 200
    assert await count_rows(referral_app, "referral") == 1


async def test_conditional_create_takes_the_condition_in_the_query_string(client, referral_app):
    first = await client.post("/fhir/ServiceRequest", json=service_request(), headers=WRITE)
    again = await client.post(
        "/fhir/ServiceRequest",
        params={"identifier": IDENTIFIER},
        json=service_request(),
        headers=WRITE,
    )

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert await count_rows(referral_app, "referral") == 1


async def test_conditional_create_refuses_two_different_conditions(client, referral_app):
    response = await client.post(
        "/fhir/ServiceRequest",
        params={"identifier": "https://emis.example/referral-id|OTHER"},
        json=service_request(),
        headers={**WRITE, "If-None-Exist": f"identifier={IDENTIFIER}"},
    )

    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["identifier"]
    assert await count_rows(referral_app, "referral") == 0


async def test_create_refuses_other_query_parameters(client, referral_app):
    response = await client.post(
        "/fhir/ServiceRequest", params={"status": "active"}, json=service_request(), headers=WRITE
    )

    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["status"]
    assert await count_rows(referral_app, "referral") == 0


async def test_create_takes_fhirs_general_parameters(client, referral_app):
    response = await client.post(
        "/fhir/ServiceRequest",
        params={"_format": "json", "_pretty": "true"},
        json=service_request(),
        headers=WRITE,
    )

    assert response.status_code == 201, response.text
    assert await count_rows(referral_app, "referral") == 1


async def test_plain_create_with_a_used_identifier_is_a_conflict(client, referral_app):
    first = await client.post("/fhir/ServiceRequest", json=service_request(), headers=WRITE)
    second = await client.post("/fhir/ServiceRequest", json=service_request(), headers=WRITE)

    assert second.status_code == 409
    issue = second.json()["issue"][0]
    assert issue["code"] == "duplicate"
    assert issue["expression"] == ["ServiceRequest.identifier"]
    assert first.json()["id"] in issue["diagnostics"]
    assert await count_rows(referral_app, "referral") == 1


async def test_concurrent_conditional_creates_make_one_referral(client, referral_app):
    headers = {**WRITE, "If-None-Exist": f"identifier={IDENTIFIER}"}
    responses = await asyncio.gather(
        *(
            client.post("/fhir/ServiceRequest", json=service_request(), headers=headers)
            for _ in range(12)
        )
    )

    assert sorted(r.status_code for r in responses) == [200] * 11 + [201]
    assert len({r.json()["id"] for r in responses}) == 1
    assert await count_rows(referral_app, "referral") == 1
    assert await count_rows(referral_app, "referral_reason") == 3


async def test_if_none_exist_must_name_an_identifier_of_the_resource(client, referral_app):
    headers = {**WRITE, "If-None-Exist": "identifier=https://other.example|X"}
    response = await client.post("/fhir/ServiceRequest", json=service_request(), headers=headers)

    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["ServiceRequest.identifier"]
    assert await count_rows(referral_app, "referral") == 0


async def test_read_returns_the_stored_referral_with_its_version(client):
    created = (
        await client.post("/fhir/ServiceRequest", json=service_request(), headers=WRITE)
    ).json()

    response = await client.get(f"/fhir/ServiceRequest/{created['id']}", headers=READ)

    assert response.status_code == 200
    assert response.json() == created
    assert response.headers["etag"] == 'W/"1"'


async def test_read_of_an_unknown_id_is_404_operation_outcome(client):
    response = await client.get("/fhir/ServiceRequest/no-such-referral", headers=READ)

    assert response.status_code == 404
    assert response.json()["resourceType"] == "OperationOutcome"
    assert response.json()["issue"][0]["code"] == "not-found"


@pytest.mark.postgres_only
async def test_a_create_that_meets_a_write_conflict_is_run_again_and_stored_once(
    client, referral_app
):
    async with failing_once(referral_app, "referral", "INSERT") as attempts:
        response = await client.post("/fhir/ServiceRequest", json=service_request(), headers=WRITE)
        # The first attempt met the conflict and was rolled back; the second was stored.
        assert await attempts() == 2

    assert response.status_code == 201, response.text
    [row] = await fetch_rows(referral_app, "SELECT id, version FROM referral")
    assert row == {"id": response.json()["id"], "version": 1}
    assert await count_rows(referral_app, "referral_reason") == 3
    creates = await fetch_rows(
        referral_app, "SELECT resource_id FROM audit_event WHERE action = 'create'"
    )
    assert creates == [{"resource_id": row["id"]}]
