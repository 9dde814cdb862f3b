"""An update held for a referral not received yet is stored minimised to the dataset: no names,
telecoms, address lines, `subject.display` or people named in its header, the postcode only as
its district and the birth date only as its year (as the referral keeps them), and no resource
types Signpost does not keep."""

import uuid

import orjson
from sqlalchemy import text

from signpost_schemas import systems
from signpost_schemas.fhir import profiles
from tests.security.bodies import REFERRAL_WRITE, new_referral, posted
from tests.support.builders import fresh_nhs_number
from tests.support.messages import emis_patient, message


def _held_update(nhs_number: str) -> dict:
    resource = new_referral(nhs_number=nhs_number)
    resource["subject"]["display"] = "Synthetic Person"
    bundle = message(
        resource,
        reason_code="update",
        timestamp="2026-10-02T10:00:00Z",
        bundle_id=str(uuid.uuid4()),
        patient=emis_patient(nhs_number, postcode="E15 1DA", birth_date="1961-04-12"),
    )
    header = bundle["entry"][0]["resource"]
    header["author"] = {"display": "Dr Synthetic Clinician"}
    header["source"]["contact"] = {"system": "phone", "value": "07700900111"}
    patient = bundle["entry"][2]["resource"]
    patient["generalPractitioner"][0]["display"] = "Dr Synthetic Doctor"
    bundle["entry"].append(
        {
            "fullUrl": f"urn:uuid:{uuid.uuid4()}",
            "resource": {
                "resourceType": "Condition",
                "id": "cond-1",
                "subject": {"reference": "Patient/x", "display": "Synthetic Person"},
                "code": {"text": "Synthetic diagnosis"},
            },
        }
    )
    return bundle


async def _held(referral_service) -> tuple[str, str]:
    """Sends an update for a referral not received yet; the person's NHS number, and the body
    stored while it waits."""
    app, client = referral_service
    nhs_number = fresh_nhs_number()
    bundle = _held_update(nhs_number)

    await posted(client, "/fhir/$process-message", bundle, REFERRAL_WRITE, 202)

    async with app.state.database.sessionmaker() as session:
        held = (
            await session.execute(
                text("SELECT body FROM held_message WHERE bundle_id = :id"), {"id": bundle["id"]}
            )
        ).scalar_one()
    return nhs_number, held


async def test_a_held_update_keeps_nothing_outside_the_dataset(referral_service):
    _, held = await _held(referral_service)

    for personal in (
        "Synthetic Person",
        "Synthetic Street",
        "07700900000",
        "Synthetic diagnosis",
        "Synthetic Clinician",
        "Synthetic Doctor",
        "07700900111",
        "E15 1DA",
        "1961-04-12",
    ):
        assert personal not in held
    assert '"Condition"' not in held


async def test_the_held_patient_is_the_person_as_a_referral_keeps_them(referral_service):
    nhs_number, stored = await _held(referral_service)

    held = orjson.loads(stored)
    [patient] = [e["resource"] for e in held["entry"] if e["resource"]["resourceType"] == "Patient"]
    assert patient == {
        "resourceType": "Patient",
        "id": f"pat-{nhs_number}",
        "identifier": [{"system": systems.NHS_NUMBER, "value": nhs_number}],
        "extension": [
            {
                "url": profiles.ETHNIC_CATEGORY_EXTENSION,
                "valueCodeableConcept": {
                    "coding": [{"system": systems.SNOMED, "code": "976891000000104"}]
                },
            }
        ],
        "gender": "female",
        "birthDate": "1961",
        "address": [{"postalCode": "E15"}],
        "generalPractitioner": [
            {"identifier": {"system": systems.ODS_ORGANIZATION, "value": "F84001"}}
        ],
    }
    assert [e["resource"]["resourceType"] for e in held["entry"]] == [
        "MessageHeader",
        "ServiceRequest",
        "Patient",
    ]
    assert set(held["entry"][0]["resource"]) == {
        "resourceType",
        "eventCoding",
        "reason",
        "source",
        "focus",
    }
