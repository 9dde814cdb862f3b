"""Whole referrals from EMIS and Rio: new → accepted → contacts (one DNA) → support offered
(one an onward referral to a directory service) → baseline and follow-up scores → closed."""

import random

import pytest
from fhir.resources.R4B.encounter import Encounter
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.servicerequest import ServiceRequest
from fhir.resources.R4B.task import Task

from tests.referral.conftest import READ, send
from tests.referral.lifecycle.state import snapshot
from tests.support.databases import empty_tables
from tests.support.messages import DIRECTORY_SERVICE, journey, lifecycle_served
from tests.support.rows import fetch_rows

LIFECYCLE = "https://signpost.nhs.example/StructureDefinition/Extension-Signpost-ReferralLifecycle"


async def replay(client, messages):
    for message in messages:
        response = await send(client, message)
        assert response.status_code in (200, 202), response.text


async def the_referral(client):
    [entry] = (await client.get("/fhir/ServiceRequest", headers=READ)).json()["entry"]
    return entry["resource"]


def lifecycle_of(resource):
    [extension] = [e for e in resource["extension"] if e["url"] == LIFECYCLE]
    return {
        part["url"]: next(v for k, v in part.items() if k.startswith("value"))
        for part in extension["extension"]
    }


async def test_emis_journey_reads_back_complete(client, referral_app):
    await replay(client, journey("emis"))

    referral = await the_referral(client)
    ServiceRequest.model_validate(referral)
    assert referral["status"] == "completed"
    assert lifecycle_of(referral) == {
        "status": "closed",
        "acceptedOn": "2026-10-02T00:00:00.000Z",
        "closedOn": "2026-11-20T00:00:00.000Z",
        "closureReason": {
            "system": "https://signpost.nhs.example/CodeSystem/referral-closure-reason",
            "code": "needs-met",
        },
        "closureOutcome": "completed",
        "firstContact": "2026-10-05T10:00:00.000Z",
        "contacts": 3,
        "didNotAttend": 1,
        "supportOffered": 2,
        "onwardReferrals": 1,
        "assessments": 2,
        "sourceSystem": "emis",
    }
    [task] = await lifecycle_served(client, "Task", referral["id"], headers=READ)
    Task.model_validate(task)
    assert task["status"] == "completed"
    assert task["focus"]["reference"] == f"ServiceRequest/{referral['id']}"
    assert [o["type"]["coding"][0]["code"] for o in task["output"]] == [
        "housing-advice",
        "benefits-welfare-advice",
    ]
    assert task["output"][0]["valueReference"]["identifier"]["value"] == DIRECTORY_SERVICE
    contacts = await lifecycle_served(client, "Encounter", referral["id"], headers=READ)
    for contact in contacts:
        Encounter.model_validate(contact)
    assert [c["class"]["code"] for c in contacts] == ["VR", "AMB", "VR"]
    observations = await lifecycle_served(client, "Observation", referral["id"], headers=READ)
    for observation in observations:
        Observation.model_validate(observation)
    assert [o["valueQuantity"]["value"] for o in observations] == [38, 47]


async def test_emis_journey_fills_the_report_rows(client, referral_app):
    await replay(client, journey("emis"))

    [lifecycle] = await fetch_rows(referral_app, "SELECT * FROM referral_lifecycle")
    assert {
        k: lifecycle[k]
        for k in (
            "status",
            "closure_reason_code",
            "closure_outcome",
            "contact_count",
            "dna_count",
            "support_offered_count",
            "onward_referral_count",
            "assessment_count",
        )
    } == {
        "status": "closed",
        "closure_reason_code": "needs-met",
        "closure_outcome": "completed",
        "contact_count": 3,
        "dna_count": 1,
        "support_offered_count": 2,
        "onward_referral_count": 1,
        "assessment_count": 2,
    }
    support = await fetch_rows(
        referral_app,
        "SELECT support_code, support_group, kind, "
        "directory_service_id FROM support_offered ORDER BY position",
    )
    assert support == [
        {
            "support_code": "housing-advice",
            "support_group": "housing",
            "kind": "referral",
            "directory_service_id": DIRECTORY_SERVICE,
        },
        {
            "support_code": "benefits-welfare-advice",
            "support_group": "finance",
            "kind": "signpost",
            "directory_service_id": None,
        },
    ]
    contacts = await fetch_rows(
        referral_app,
        "SELECT mechanism_code, mechanism_group, "
        "attendance_code, attendance_outcome FROM contact "
        "ORDER BY contact_at",
    )
    assert [(c["mechanism_group"], c["attendance_outcome"]) for c in contacts] == [
        ("telephone", "dna"),
        ("face-to-face", "attended"),
        ("video", "attended"),
    ]
    scores = await fetch_rows(
        referral_app,
        "SELECT instrument, timepoint, total_score FROM assessment ORDER BY assessed_at",
    )
    assert scores == [
        {"instrument": "wemwbs", "timepoint": "baseline", "total_score": 38.0},
        {"instrument": "wemwbs", "timepoint": "follow-up", "total_score": 47.0},
    ]
    [referral] = await fetch_rows(
        referral_app,
        "SELECT source_system, source_of_referral_code, source_of_referral_group FROM referral",
    )
    assert referral == {
        "source_system": "emis",
        "source_of_referral_code": "108161000000109",
        "source_of_referral_group": "primary-care",
    }
    [person] = await fetch_rows(referral_app, "SELECT * FROM referral_person")
    assert {
        k: person[k]
        for k in (
            "birth_year",
            "age_band",
            "gender",
            "stated_gender_code",
            "gender_native_code",
            "ethnic_category",
            "ethnic_group",
            "ethnic_native_system",
            "ethnic_native_code",
            "postcode_district",
            "lsoa_code",
            "lsoa_status",
            "practice_ods",
        )
    } == {
        "birth_year": 1961,
        "age_band": "65-74",
        "gender": "female",
        "stated_gender_code": "2",
        "gender_native_code": "female",
        "ethnic_category": "N",
        "ethnic_group": "black-or-black-british",
        "ethnic_native_system": "http://snomed.info/sct",
        "ethnic_native_code": "976891000000104",
        "postcode_district": "E15",
        "lsoa_code": "E01033011",
        "lsoa_status": "derived",
        "practice_ods": "F84001",
    }


async def test_rio_journey_keeps_mhsds_codes_beside_the_normalised_ones(client, referral_app):
    await replay(client, journey("rio"))

    referral = await the_referral(client)
    assert lifecycle_of(referral)["status"] == "closed"
    assert lifecycle_of(referral)["sourceSystem"] == "rio"
    [row] = await fetch_rows(
        referral_app,
        "SELECT source_system, source_of_referral_code, source_of_referral_group FROM referral",
    )
    assert row == {
        "source_system": "rio",
        "source_of_referral_code": "A1",
        "source_of_referral_group": "primary-care",
    }
    [person] = await fetch_rows(
        referral_app,
        "SELECT gender, gender_identity_code, "
        "stated_gender_code, ethnic_category, ethnic_group, "
        "ethnic_native_code, lsoa_code, birth_year, age_band "
        "FROM referral_person",
    )
    assert person == {
        "gender": "non-binary",
        "gender_identity_code": "3",
        "stated_gender_code": None,
        "ethnic_category": "K",
        "ethnic_group": "asian-or-asian-british",
        "ethnic_native_code": "K",
        "lsoa_code": "E01033085",
        "birth_year": 1990,
        "age_band": "35-44",
    }
    items = await fetch_rows(
        referral_app,
        "SELECT a.timepoint, s.item_code, s.value FROM "
        "assessment_score s JOIN assessment a ON a.id = s.assessment_id "
        "WHERE s.item_code = 'ons4-anxiety' ORDER BY a.assessed_at",
    )
    assert items == [
        {"timepoint": "baseline", "item_code": "ons4-anxiety", "value": 8.0},
        {"timepoint": "follow-up", "item_code": "ons4-anxiety", "value": 4.0},
    ]


@pytest.mark.parametrize("source", ["emis", "rio"])
async def test_shuffled_and_sent_twice_gives_the_identical_final_state(
    client, referral_app, sample_postcodes, source
):
    messages = journey(source)
    await replay(client, messages)
    in_order = await snapshot(client, referral_app)

    await empty_tables(referral_app.state.database.engine)
    from referral_api.geography.load import replace_postcodes, sample_rows

    async with referral_app.state.database.sessionmaker() as session, session.begin():
        await replace_postcodes(session, sample_rows(), "sample", is_sample=True)
    shuffled = messages * 2
    random.Random(20261122).shuffle(shuffled)
    await replay(client, shuffled)

    assert await snapshot(client, referral_app) == in_order
