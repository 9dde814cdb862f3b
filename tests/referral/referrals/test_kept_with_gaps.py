"""Referrals that are incomplete or carry more than Signpost reads are kept, with their gaps.

Missing dataset items are stored as not recorded; elements Signpost does not read are served
back as sent; personal data outside the dataset is removed. Each is a data gap, stored in
referral_gap and answered as a warning when the client sends `Prefer: return=OperationOutcome`.
"""

import copy

import pytest
from fhir.resources.R4B.servicerequest import ServiceRequest as R4BServiceRequest

from signpost_schemas import systems
from tests.referral.conftest import READ, WRITE
from tests.support.builders import reason, service_request
from tests.support.rows import fetch_rows

SOURCE_ELEMENT = f"ServiceRequest.extension('{systems.SOURCE_OF_SERVICE_REQUEST_EXTENSION}')"
OUTCOME = {**WRITE, "Prefer": "return=OperationOutcome"}
SECRET_NOTE = "Lives alone at 1 Synthetic Street, daughter Jo Synthetic"


async def gap_rows(app, referral_id):
    return await fetch_rows(
        app,
        "SELECT kind, element FROM referral_gap WHERE referral_id = :id ORDER BY position",
        id=referral_id,
    )


def warnings(outcome):
    assert outcome["resourceType"] == "OperationOutcome"
    return {
        (i["details"]["coding"][0]["code"], i["expression"][0])
        for i in outcome["issue"]
        if i["severity"] == "warning"
    }


async def test_a_referral_without_a_source_of_referral_is_kept_as_not_recorded(
    client, referral_app
):
    body = service_request()
    del body["extension"]

    response = await client.post("/fhir/ServiceRequest", json=body, headers=WRITE)

    assert response.status_code == 201, response.text
    referral_id = response.json()["id"]
    [row] = await fetch_rows(
        referral_app,
        "SELECT source_of_referral_system, source_of_referral_code, source_of_referral_group "
        "FROM referral WHERE id = :id",
        id=referral_id,
    )
    assert row == {
        "source_of_referral_system": systems.SOURCE_OF_REFERRAL,
        "source_of_referral_code": "not-recorded",
        "source_of_referral_group": "not-recorded",
    }
    assert await gap_rows(referral_app, referral_id) == [
        {"kind": "not-recorded", "element": SOURCE_ELEMENT}
    ]
    served = response.json()["extension"]
    assert served[0]["valueCodeableConcept"]["coding"][0]["code"] == "not-recorded"


@pytest.mark.parametrize("reasons", [None, []], ids=["absent", "empty"])
async def test_a_referral_without_reasons_is_kept_with_reason_not_recorded(
    client, referral_app, reasons
):
    body = service_request()
    if reasons is None:
        del body["reasonCode"]
    else:
        body["reasonCode"] = reasons

    response = await client.post("/fhir/ServiceRequest", json=body, headers=OUTCOME)

    assert response.status_code == 201, response.text
    assert warnings(response.json()) == {("not-recorded", "ServiceRequest.reasonCode")}
    referral_id = response.headers["location"].split("/_history/")[0].rsplit("/", 1)[1]
    reasons_stored = await fetch_rows(
        referral_app,
        "SELECT reason_code, reason_group FROM referral_reason WHERE referral_id = :id",
        id=referral_id,
    )
    assert reasons_stored == [
        {"reason_code": "reason-not-recorded", "reason_group": "not-recorded"}
    ]
    assert await gap_rows(referral_app, referral_id) == [
        {"kind": "not-recorded", "element": "ServiceRequest.reasonCode"}
    ]


@pytest.mark.serves_back_invalid_fhir  # reasonCode[0].foo is no FHIR R4 element
async def test_elements_signpost_does_not_read_are_served_back_exactly(client, referral_app):
    unknown_extension = {
        "url": "https://example.org/StructureDefinition/referral-priority-band",
        "valuePeriod": {"start": "2026-10-01", "end": "2026-10-31"},
    }
    supporting_info = [{"reference": "DocumentReference/letter-1", "type": "DocumentReference"}]
    body = service_request(
        reasons=[{**reason("105531004"), "foo": {"bar": [1, 2]}}, reason("160932005")],
        supportingInfo=supporting_info,
    )
    body["extension"].insert(0, unknown_extension)
    body["meta"] = {"security": [{"system": "https://example.org/sec", "code": "R"}]}

    created = await client.post("/fhir/ServiceRequest", json=body, headers=OUTCOME)

    assert created.status_code == 201, created.text
    assert warnings(created.json()) == {
        ("not-interpreted", f"ServiceRequest.extension('{unknown_extension['url']}')"),
        ("not-interpreted", "ServiceRequest.reasonCode[0].foo"),
        ("not-interpreted", "ServiceRequest.supportingInfo"),
        ("not-interpreted", "ServiceRequest.meta.security"),
    }
    referral_id = created.headers["location"].split("/_history/")[0].rsplit("/", 1)[1]
    served = (await client.get(f"/fhir/ServiceRequest/{referral_id}", headers=READ)).json()
    assert served["extension"][0] == unknown_extension
    assert served["extension"][1]["url"] == systems.SOURCE_OF_SERVICE_REQUEST_EXTENSION
    assert served["supportingInfo"] == supporting_info
    assert served["reasonCode"][0]["foo"] == {"bar": [1, 2]}
    assert served["meta"]["security"] == body["meta"]["security"]
    R4BServiceRequest.model_validate({k: v for k, v in served.items() if k != "reasonCode"})
    kinds = {(r["kind"], r["element"]) for r in await gap_rows(referral_app, referral_id)}
    assert ("not-interpreted", "ServiceRequest.reasonCode.foo") in kinds


async def test_personal_data_outside_the_dataset_is_removed_with_a_warning(client, referral_app):
    body = service_request(
        note=[{"text": SECRET_NOTE}],
        text={"status": "generated", "div": f"<div>{SECRET_NOTE}</div>"},
        patientInstruction=SECRET_NOTE,
        contained=[{"resourceType": "Patient", "id": "p", "name": [{"family": "Synthetic"}]}],
    )
    body["subject"]["display"] = "Jo Synthetic"

    response = await client.post("/fhir/ServiceRequest", json=body, headers=OUTCOME)

    assert response.status_code == 201, response.text
    assert warnings(response.json()) == {
        ("removed-personal-data", f"ServiceRequest.{element}")
        for element in ("note", "text", "patientInstruction", "contained", "subject.display")
    }
    referral_id = response.headers["location"].split("/_history/")[0].rsplit("/", 1)[1]
    served = (await client.get(f"/fhir/ServiceRequest/{referral_id}", headers=READ)).json()
    for element in ("note", "text", "patientInstruction", "contained"):
        assert element not in served
    assert "display" not in served["subject"]
    [stored] = await fetch_rows(
        referral_app, "SELECT resource FROM referral WHERE id = :id", id=referral_id
    )
    assert "Synthetic" not in str(stored["resource"])
    gap_kinds = {r["kind"] for r in await gap_rows(referral_app, referral_id)}
    assert gap_kinds == {"removed-personal-data"}


async def test_prefer_operation_outcome_keeps_the_status_and_headers(client):
    body = service_request()
    del body["extension"]

    response = await client.post("/fhir/ServiceRequest", json=body, headers=OUTCOME)

    assert response.status_code == 201
    assert response.headers["location"].startswith("http://referral.test/fhir/ServiceRequest/")
    assert response.headers["etag"] == 'W/"1"'
    assert response.headers["preference-applied"] == "return=OperationOutcome"
    [issue] = response.json()["issue"]
    assert issue["severity"] == "warning"
    assert issue["code"] == "incomplete"
    assert issue["expression"] == [SOURCE_ELEMENT]


async def test_a_complete_referral_answers_an_outcome_without_warnings(client):
    response = await client.post("/fhir/ServiceRequest", json=service_request(), headers=OUTCOME)

    assert response.status_code == 201
    assert [i["severity"] for i in response.json()["issue"]] == ["information"]


async def test_prefer_return_minimal_answers_no_body(client):
    response = await client.post(
        "/fhir/ServiceRequest",
        json=service_request(),
        headers={**WRITE, "Prefer": "return=minimal"},
    )

    assert response.status_code == 201
    assert response.content == b""
    assert response.headers["etag"] == 'W/"1"'
    location = response.headers["location"]
    assert (await client.get(location.split("referral.test")[1], headers=READ)).status_code == 200


async def test_a_conditional_create_that_matches_says_nothing_was_stored(client):
    headers = {**OUTCOME, "If-None-Exist": "identifier=https://emis.example/referral-id|EMIS-0001"}
    first = await client.post("/fhir/ServiceRequest", json=service_request(), headers=headers)
    body = service_request()
    del body["extension"]

    again = await client.post("/fhir/ServiceRequest", json=body, headers=headers)

    assert (first.status_code, again.status_code) == (201, 200)
    [issue] = again.json()["issue"]
    assert issue["severity"] == "information"
    assert "nothing was created" in issue["diagnostics"]


async def test_an_update_replaces_the_gaps_and_answers_its_own(client, referral_app):
    body = service_request()
    del body["reasonCode"]
    created = (await client.post("/fhir/ServiceRequest", json=body, headers=WRITE)).json()
    complete = {**copy.deepcopy(service_request()), "id": created["id"]}
    del complete["extension"]

    response = await client.put(
        f"/fhir/ServiceRequest/{created['id']}",
        json=complete,
        headers={**OUTCOME, "If-Match": 'W/"1"'},
    )

    assert response.status_code == 200, response.text
    assert response.headers["etag"] == 'W/"2"'
    assert warnings(response.json()) == {("not-recorded", SOURCE_ELEMENT)}
    assert await gap_rows(referral_app, created["id"]) == [
        {"kind": "not-recorded", "element": SOURCE_ELEMENT}
    ]


async def test_a_served_referral_sent_back_unchanged_keeps_its_gaps(client, referral_app):
    body = service_request(supportingInfo=[{"reference": "DocumentReference/1"}])
    del body["extension"]
    served = (await client.post("/fhir/ServiceRequest", json=body, headers=WRITE)).json()

    response = await client.put(
        f"/fhir/ServiceRequest/{served['id']}", json=served, headers={**WRITE, "If-Match": 'W/"1"'}
    )

    assert response.status_code == 200, response.text
    assert response.json()["supportingInfo"] == [{"reference": "DocumentReference/1"}]
    assert {r["kind"] for r in await gap_rows(referral_app, served["id"])} == {
        "not-recorded",
        "not-interpreted",
    }
