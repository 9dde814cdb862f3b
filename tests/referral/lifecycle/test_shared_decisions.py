"""Shared decision making: a conversation is a Procedure of the referral (coded, dated, held by
a worker named by staff identifier), and the person's CollaboRATE score an assessment."""

from functools import partial
from typing import Any

import pytest

from signpost_schemas import systems
from signpost_schemas.fhir import profiles
from tests.referral.conftest import READ, send
from tests.referral.messages.test_kept_with_gaps import everything_stored, warnings
from tests.support.messages import assessment, new_referral
from tests.support.rows import fetch_rows

STAFF = "https://emis.example/Id/staff"
NAME = "Synthetic Worker"
SDM = {"coding": [{"system": profiles.SHARED_DECISION_MAKING, "code": "sdm-conversation"}]}


def conversation(
    procedure_id: str = "sdm-1",
    code: dict[str, Any] = SDM,
    *,
    performed: str | None = "2026-10-05T11:00:00Z",
    status: str = "completed",
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceType": "Procedure",
        "id": procedure_id,
        "status": status,
        "basedOn": [{"reference": "SR"}],
        "code": code,
        "performer": [
            {
                "function": {
                    "coding": [
                        {
                            "system": systems.PERSONALISED_CARE_ROLE,
                            "code": "health-and-wellbeing-coach",
                        }
                    ]
                },
                "actor": {
                    "type": "Practitioner",
                    "identifier": {"system": STAFF, "value": "HC-7"},
                    "display": NAME,
                },
            }
        ],
    }
    if performed:
        body["performedDateTime"] = performed
    return body


def collaborate(items: dict[str, Any], **extra: Any) -> dict[str, Any]:
    body = assessment("collab-1", "collaborate", "follow-up", "2026-10-05T11:30:00Z", items=items)
    body["partOf"] = [{"reference": "Procedure/sdm-1"}]
    body.update(extra)
    return body


SCORES = {"collaborate-understand": 9, "collaborate-listen": 8, "collaborate-include": 9}


# The synthetic EMIS referral sent as new with the resources given.
referral_with = partial(new_referral, timestamp="2026-10-06T09:00:00Z")


async def test_a_conversation_and_its_collaborate_score_are_kept(client, referral_app):
    response = await send(client, referral_with(conversation(), collaborate(SCORES)))

    assert response.status_code == 200, response.text
    assert (
        "removed-personal-data",
        "Bundle.entry[3].resource.performer[0].actor.display",
    ) in warnings(response.json())
    rows = await fetch_rows(
        referral_app,
        "SELECT source_id, status, code_system, code, code_group, worker_system, worker_value, "
        "worker_role FROM shared_decision",
    )
    assert rows == [
        {
            "source_id": "sdm-1",
            "status": "completed",
            "code_system": profiles.SHARED_DECISION_MAKING,
            "code": "sdm-conversation",
            "code_group": "sdm",
            "worker_system": STAFF,
            "worker_value": "HC-7",
            "worker_role": "health-and-wellbeing-coach",
        }
    ]
    scores = await fetch_rows(
        referral_app,
        "SELECT a.instrument, s.item_code, s.value FROM assessment a JOIN assessment_score s "
        "ON s.assessment_id = a.id ORDER BY s.item_code",
    )
    assert scores == [
        {"instrument": "collaborate", "item_code": "collaborate-include", "value": 9.0},
        {"instrument": "collaborate", "item_code": "collaborate-listen", "value": 8.0},
        {"instrument": "collaborate", "item_code": "collaborate-understand", "value": 9.0},
    ]
    [entry] = (await client.get("/fhir/Procedure", headers=READ)).json()["entry"]
    served = entry["resource"]
    assert served["meta"]["profile"] == [profiles.PROCEDURE_PROFILE]
    assert served["basedOn"][0]["reference"].startswith("ServiceRequest/")
    assert served["subject"]["identifier"]["system"] == systems.NHS_NUMBER
    referral_id = served["basedOn"][0]["reference"].split("/")[1]
    found = await client.get("/fhir/Procedure", params={"based-on": referral_id}, headers=READ)
    assert [e["resource"]["id"] for e in found.json()["entry"]] == [served["id"]]
    read = await client.get(f"/fhir/Procedure/{served['id']}", headers=READ)
    assert read.status_code == 200 and read.json() == served
    assert NAME not in await everything_stored(referral_app)


@pytest.mark.parametrize(
    ("code", "group", "gap"),
    [
        (
            {"coding": [{"system": systems.SNOMED, "code": "229065009"}]},
            "unmapped",
            "unmapped-code",
        ),
        ({"text": "Talked through the options together"}, "uncoded", "uncoded-text"),
    ],
)
async def test_a_code_outside_the_list_is_kept_with_a_warning(
    client, referral_app, code, group, gap
):
    response = await send(client, referral_with(conversation(code=code)))

    assert response.status_code == 200, response.text
    assert (gap, "Bundle.entry[3].resource.code") in warnings(response.json())
    [row] = await fetch_rows(referral_app, "SELECT code_group FROM shared_decision")
    assert row["code_group"] == group


async def test_a_later_version_replaces_the_conversation(client, referral_app):
    assert (
        await send(client, referral_with(conversation(status="in-progress")))
    ).status_code == 200
    later = referral_with(conversation(status="completed"), timestamp="2026-10-07T09:00:00Z")
    later["entry"][0]["resource"]["reason"]["coding"][0]["code"] = "update"
    assert (await send(client, later)).status_code == 200
    rows = await fetch_rows(referral_app, "SELECT status, version FROM shared_decision")
    assert rows == [{"status": "completed", "version": 2}]


@pytest.mark.parametrize(
    ("resources", "expression"),
    [
        (
            [conversation(code={"coding": [{"system": "https://example.org/x", "code": "sdm"}]})],
            "Bundle.entry[3].resource.code",
        ),
        ([conversation(performed=None)], "Bundle.entry[3].resource.performed[x]"),
        (
            [collaborate({**SCORES, "collaborate-listen": 10})],
            "Bundle.entry[3].resource.component[1].valueInteger",
        ),
        (
            [collaborate(SCORES, valueQuantity={"value": 26})],
            "Bundle.entry[3].resource.valueQuantity",
        ),
        (
            [collaborate({"collaborate-understand": 9, "wemwbs-total": 40})],
            "Bundle.entry[3].resource.component[1].code",
        ),
    ],
    ids=["other-system", "no-date", "item-out-of-range", "a-total", "another-instrument-item"],
)
async def test_what_cannot_be_read_is_refused_and_nothing_is_written(
    client, referral_app, resources, expression
):
    response = await send(client, referral_with(*resources))

    assert response.status_code == 422, response.text
    outcome = response.json()
    assert any(expression in issue.get("expression", []) for issue in outcome["issue"]), outcome
    assert await fetch_rows(referral_app, "SELECT id FROM referral") == []
    assert await fetch_rows(referral_app, "SELECT id FROM shared_decision") == []
