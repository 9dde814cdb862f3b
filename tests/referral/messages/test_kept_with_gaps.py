"""Messages that are incomplete or carry more than Signpost reads: kept, with warnings back.

The response message's OperationOutcome carries one warning per gap, named from the message
(`Bundle.entry[2].resource.name`); the referral's gaps are stored in referral_gap.
"""

import copy

from sqlalchemy import select

from referral_api.db import Base
from signpost_schemas import systems
from signpost_schemas.fhir import profiles
from tests.referral.conftest import READ, send
from tests.support.messages import (
    contact,
    emis_patient,
    emis_service_request,
    message,
    new_referral,
    task,
)
from tests.support.rows import fetch_rows

SECRET = "Synthetic Street"
# The gaps of the incomplete message's Patient: what it lacks and the personal data removed.
PERSON_GAPS = {
    ("not-recorded", "Patient.gender"),
    ("not-recorded", f"Patient.extension('{profiles.ETHNIC_CATEGORY_EXTENSION}')"),
    ("removed-personal-data", "Patient.name"),
    ("removed-personal-data", "Patient.telecom"),
    ("removed-personal-data", "Patient.address.line"),
    ("removed-personal-data", "Patient.address.city"),
}


def warnings(response_bundle):
    [outcome] = [
        e["resource"]
        for e in response_bundle["entry"]
        if e["resource"]["resourceType"] == "OperationOutcome"
    ]
    return {
        (i["details"]["coding"][0]["code"], i["expression"][0])
        for i in outcome["issue"]
        if i["severity"] == "warning"
    }


async def gap_rows(app):
    rows = await fetch_rows(app, "SELECT kind, element FROM referral_gap ORDER BY position")
    return {(r["kind"], r["element"]) for r in rows}


async def everything_stored(app) -> str:
    """Every row of every table, as text, to search for what must not be kept."""
    dump = []
    async with app.state.database.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            dump.extend(str(tuple(row)) for row in await connection.execute(select(table)))
    return "\n".join(dump)


def incomplete_message():
    request = emis_service_request()
    del request["extension"]  # no source of referral
    request["supportingInfo"] = [{"reference": "DocumentReference/letter-1"}]
    patient = emis_patient()
    del patient["extension"]  # no ethnic category
    del patient["gender"]
    patient["address"][0]["line"] = [f"1 {SECRET}"]
    encounter = contact("c1", "2026-10-03T10:00:00Z")
    encounter["participant"] = [{"individual": {"reference": "Practitioner/link-worker-1"}}]
    return message(
        request,
        encounter,
        reason_code="new",
        patient=patient,
        timestamp="2026-10-04T09:00:00Z",
    )


async def test_the_response_message_carries_each_gap_as_a_warning(client):
    response = await send(client, incomplete_message())

    assert response.status_code == 200, response.text
    source = f"extension('{systems.SOURCE_OF_SERVICE_REQUEST_EXTENSION}')"
    ethnicity = f"extension('{profiles.ETHNIC_CATEGORY_EXTENSION}')"
    assert warnings(response.json()) == {
        ("not-recorded", f"Bundle.entry[1].resource.{source}"),
        ("not-interpreted", "Bundle.entry[1].resource.supportingInfo"),
        ("not-recorded", "Bundle.entry[2].resource.gender"),
        ("not-recorded", f"Bundle.entry[2].resource.{ethnicity}"),
        ("removed-personal-data", "Bundle.entry[2].resource.name"),
        ("removed-personal-data", "Bundle.entry[2].resource.telecom"),
        ("removed-personal-data", "Bundle.entry[2].resource.address[0].line"),
        ("removed-personal-data", "Bundle.entry[2].resource.address[0].city"),
        ("not-recorded", "Bundle.entry[3].resource.participant[0].individual.identifier"),
    }


async def test_the_referral_and_person_gaps_are_stored(client, referral_app):
    assert (await send(client, incomplete_message())).status_code == 200

    stored = await gap_rows(referral_app)

    assert stored == {
        (
            "not-recorded",
            f"ServiceRequest.extension('{systems.SOURCE_OF_SERVICE_REQUEST_EXTENSION}')",
        ),
        ("not-interpreted", "ServiceRequest.supportingInfo"),
        *PERSON_GAPS,
    }
    [referral] = await fetch_rows(referral_app, "SELECT source_of_referral_group FROM referral")
    assert referral["source_of_referral_group"] == "not-recorded"


async def test_names_and_address_lines_are_nowhere_in_the_database(client, referral_app):
    assert (await send(client, incomplete_message())).status_code == 200

    stored = await everything_stored(referral_app)

    assert SECRET not in stored
    assert "Synthetic" not in stored  # the family name
    assert "07700900000" not in stored  # the phone number


async def test_a_contact_keeps_its_participants_and_serves_them_back(client):
    assert (await send(client, incomplete_message())).status_code == 200

    [entry] = (await client.get("/fhir/Encounter", headers=READ)).json()["entry"]

    assert entry["resource"]["participant"] == [
        {"individual": {"reference": "Practitioner/link-worker-1"}}
    ]


async def test_task_notes_are_removed_with_a_warning(client, referral_app):
    accepted = task("t1", "accepted", accepted="2026-10-02")
    accepted["note"] = [{"text": f"Visited at 1 {SECRET}"}]
    response = await send(client, new_referral(accepted, timestamp="2026-10-04T09:00:00Z"))

    assert response.status_code == 200, response.text
    assert ("removed-personal-data", "Bundle.entry[3].resource.note") in warnings(response.json())
    assert SECRET not in await everything_stored(referral_app)


async def test_a_later_update_without_a_patient_keeps_the_person_gaps(client, referral_app):
    first = incomplete_message()
    assert (await send(client, first)).status_code == 200
    complete = emis_service_request()
    update = message(complete, reason_code="update", timestamp="2026-10-05T09:00:00Z")

    response = await send(client, update)

    assert response.status_code == 200, response.text
    assert await gap_rows(referral_app) == PERSON_GAPS


async def test_a_modifier_extension_in_a_message_is_refused_and_writes_nothing(
    client, referral_app
):
    body = incomplete_message()
    encounter = copy.deepcopy(body["entry"][3]["resource"])
    encounter["modifierExtension"] = [{"url": "https://example.org/not-done", "valueBoolean": True}]
    body["entry"][3]["resource"] = encounter

    response = await send(client, body)

    assert response.status_code == 422
    [issue] = response.json()["issue"]
    assert issue["code"] == "not-supported"
    assert issue["expression"] == ["Bundle.entry[3].resource.modifierExtension"]
    assert await fetch_rows(referral_app, "SELECT id FROM referral") == []


async def test_a_held_update_answers_its_warnings(client):
    request = emis_service_request("EMIS-HELD-1")
    request["supportingInfo"] = [{"reference": "DocumentReference/letter-1"}]
    update = message(request, reason_code="update", timestamp="2026-10-05T09:00:00Z")

    response = await send(client, update)

    assert response.status_code == 202, response.text
    assert warnings(response.json()) == {
        ("not-interpreted", "Bundle.entry[1].resource.supportingInfo")
    }


async def _lifecycle_of(client, identifier="EMIS-2026-0001"):
    found = await client.get(
        "/fhir/ServiceRequest",
        params={"identifier": f"https://emis.example/referral-id|{identifier}"},
        headers=READ,
    )
    [entry] = found.json()["entry"]
    [summary] = [
        e
        for e in entry["resource"]["extension"]
        if e["url"] == profiles.REFERRAL_LIFECYCLE_EXTENSION
    ]
    return {part["url"]: part for part in summary["extension"]}


def _closing_with_reason(snomed_code):
    """A new referral whose Task closes it, its statusReason the SNOMED CT `snomed_code`."""
    closed = task(
        "t1",
        "completed",
        accepted="2026-10-02",
        ended="2026-10-05",
        reason=(systems.SNOMED, snomed_code),
    )
    return new_referral(closed, timestamp="2026-10-06T09:00:00Z")


async def test_a_closure_without_a_reason_is_kept_as_not_recorded(client):
    closed = task("t1", "completed", accepted="2026-10-02", ended="2026-10-05")
    response = await send(client, new_referral(closed, timestamp="2026-10-06T09:00:00Z"))

    assert response.status_code == 200, response.text
    assert ("not-recorded", "Bundle.entry[3].resource.statusReason") in warnings(response.json())
    parts = await _lifecycle_of(client)
    assert parts["status"]["valueCode"] == "closed"
    assert parts["closureReason"]["valueCoding"]["code"] == "not-recorded"


async def test_a_snomed_closure_reason_is_kept_as_sent_and_stored_as_not_recorded(client):
    response = await send(client, _closing_with_reason("183921001"))

    assert response.status_code == 200, response.text
    assert ("unmapped-code", "Bundle.entry[3].resource.statusReason") in warnings(response.json())
    parts = await _lifecycle_of(client)
    assert parts["closureReason"]["valueCoding"]["code"] == "not-recorded"
    tasks = await client.get("/fhir/Task", params={"_count": 10}, headers=READ)
    [stored] = [e["resource"] for e in tasks.json()["entry"]]
    assert stored["statusReason"]["coding"][0]["code"] == "183921001"


async def test_a_rejection_without_a_reason_is_kept_as_declined(client):
    response = await send(
        client,
        new_referral(
            task("t1", "rejected", last_modified="2026-10-05T10:00:00Z"),
            timestamp="2026-10-06T09:00:00Z",
        ),
    )

    assert response.status_code == 200, response.text
    assert ("not-recorded", "Bundle.entry[3].resource.statusReason") in warnings(response.json())
    assert (await _lifecycle_of(client))["status"]["valueCode"] == "declined"


async def test_a_malformed_snomed_closure_reason_is_refused(client):
    response = await send(client, _closing_with_reason("183921002"))

    assert response.status_code == 422, response.text
    assert "Bundle.entry[3].resource.statusReason" in response.text


def pasted_text_message():
    """A message whose free text came from a pasted letter: a vertical tab, a bell, a NUL."""
    request = emis_service_request()
    request["reasonCode"][0]["text"] = "Lives alone\u000bfell twice\u0007"
    request["reasonCode"][0]["coding"][0]["display"] = "Lives\u0000alone"
    request["supportingInfo"] = [{"display": "Letter\u001f1"}]
    sent = message(
        request, reason_code="new", patient=emis_patient(), timestamp="2026-10-04T09:00:00Z"
    )
    sent["entry"][0]["resource"]["reason"]["text"] = "New\u0002referral"
    return sent


async def test_control_characters_in_free_text_are_replaced_and_the_message_kept(client):
    response = await send(client, pasted_text_message())

    assert response.status_code == 200, response.text
    replaced = {where for code, where in warnings(response.json()) if code == "replaced-characters"}
    assert replaced == {
        "Bundle.entry[0].resource.reason.text",
        "Bundle.entry[1].resource.reasonCode[0].text",
        "Bundle.entry[1].resource.reasonCode[0].coding[0].display",
        "Bundle.entry[1].resource.supportingInfo[0].display",
    }
    [entry] = (await client.get("/fhir/ServiceRequest", headers=READ)).json()["entry"]
    served = entry["resource"]
    assert served["reasonCode"][0]["text"] == "Lives alone\nfell twice\ufffd"
    assert served["reasonCode"][0]["coding"][0]["display"] == "Lives\ufffdalone"
    assert served["supportingInfo"] == [{"display": "Letter\ufffd1"}]


async def test_the_replaced_characters_are_recorded_as_gaps_of_the_referral(client, referral_app):
    assert (await send(client, pasted_text_message())).status_code == 200

    stored = await gap_rows(referral_app)

    assert {where for kind, where in stored if kind == "replaced-characters"} == {
        "ServiceRequest.reasonCode.text",
        "ServiceRequest.reasonCode.coding.display",
        "ServiceRequest.supportingInfo.display",
    }


async def test_a_control_character_in_an_identifier_still_refuses_the_message(client):
    sent = pasted_text_message()
    sent["entry"][1]["resource"]["identifier"][0]["value"] = "EMIS\u00071"

    response = await send(client, sent)

    assert response.status_code == 400, response.text
    assert response.json()["issue"][0]["expression"] == [
        "Bundle.entry[1].resource.identifier[0].value"
    ]
    assert (await client.get("/fhir/ServiceRequest", headers=READ)).json().get("entry") is None


async def test_a_released_update_still_answers_its_headers_replaced_characters(client):
    """A held message keeps the warnings of its MessageHeader for the answer on release."""
    update = message(
        emis_service_request("EMIS-HELD-2"), reason_code="update", timestamp="2026-10-05T09:00:00Z"
    )
    update["entry"][0]["resource"]["reason"]["text"] = "Update\u0002"
    header = ("replaced-characters", "Bundle.entry[0].resource.reason.text")
    held = await send(client, update)
    assert held.status_code == 202, held.text
    assert header in warnings(held.json())
    created = message(
        emis_service_request("EMIS-HELD-2"),
        reason_code="new",
        patient=emis_patient(),
        timestamp="2026-10-04T09:00:00Z",
    )
    assert (await send(client, created)).status_code == 200

    released = await send(client, update)  # a resend answers as the message was applied

    assert released.status_code == 200, released.text
    assert header in warnings(released.json())


async def test_free_text_the_profile_does_not_read_is_kept_with_characters_replaced(client):
    accepted = task("t1", "accepted", accepted="2026-10-02")
    accepted["description"] = "Seen\u0000twice"  # FHIR R4 Task.description: kept, not read
    sent = message(
        emis_service_request(),
        accepted,
        reason_code="new",
        patient=emis_patient(),
        timestamp="2026-10-04T09:00:00Z",
    )

    response = await send(client, sent)

    assert response.status_code == 200, response.text
    assert ("replaced-characters", "Bundle.entry[3].resource.description") in warnings(
        response.json()
    )
    [entry] = (await client.get("/fhir/Task", headers=READ)).json()["entry"]
    assert entry["resource"]["description"] == "Seen\ufffdtwice"


async def test_a_resource_names_twenty_gaps_of_a_kind_and_counts_the_rest(client, referral_app):
    """A small body cannot make a huge answer: 500 replaced strings give 21 warnings."""
    sent = pasted_text_message()
    sent["entry"][1]["resource"]["supportingInfo"] = [{"display": "x\u0001"}] * 500

    response = await send(client, sent)

    assert response.status_code == 200, response.text
    replaced = [
        where
        for code, where in warnings(response.json())
        if code == "replaced-characters" and where.startswith("Bundle.entry[1]")
    ]
    assert len(replaced) == 21  # the reason's text and display, 18 of the 500, and the rest
    assert "Bundle.entry[1].resource" in replaced
    [outcome] = [
        e["resource"]
        for e in response.json()["entry"]
        if e["resource"]["resourceType"] == "OperationOutcome"
    ]
    assert any(
        "482 more replaced-characters gaps" in issue.get("diagnostics", "")
        for issue in outcome["issue"]
    )
    stored = await fetch_rows(
        referral_app, "SELECT count(*) AS n FROM referral_gap WHERE kind = 'replaced-characters'"
    )
    assert stored == [{"n": 21}]
