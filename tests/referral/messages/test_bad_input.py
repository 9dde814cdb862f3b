"""Bad messages: a clear OperationOutcome naming the element, and nothing written."""

import copy

import pytest

from signpost_schemas.fhir import profiles
from tests.referral.conftest import send, send_raw
from tests.referral.messages.conftest import NEW, REQUEST
from tests.support.messages import (
    assessment,
    contact,
    emis_patient,
    message,
    new_referral,
    support,
    task,
)
from tests.support.outcomes import has_issue
from tests.support.rows import count_rows

TABLES = [
    "referral",
    "processed_message",
    "held_message",
    "referral_task",
    "contact",
    "assessment",
    "referral_person",
    "support_offered",
]


def new_with(*resources):
    return new_referral(
        *resources, request=REQUEST, timestamp="2026-10-06T09:05:00Z", bundle_id="bad-message-1"
    )


def unknown_event():
    body = copy.deepcopy(NEW)
    body["entry"][0]["resource"]["eventCoding"]["code"] = "booking-request"
    return body


def service_request_missing():
    body = copy.deepcopy(NEW)
    del body["entry"][1]
    return body


def task_for_another_referral():
    body = new_with(task("t1", "accepted", accepted="2026-10-02"))
    body["entry"][-1]["resource"]["focus"] = {"reference": "ServiceRequest/never-seen"}
    return body


def unknown_reason():
    body = copy.deepcopy(NEW)
    body["entry"][0]["resource"]["reason"]["coding"][0]["code"] = "delete"
    return body


CASES = {
    "unknown event": (unknown_event, 422, "code-invalid", "Bundle.entry[0].resource.eventCoding"),
    "unknown reason": (unknown_reason, 422, "code-invalid", "Bundle.entry[0].resource.reason"),
    "service request missing": (service_request_missing, 422, "required", "MessageHeader.focus"),
    "task for a referral never seen": (
        task_for_another_referral,
        422,
        "not-found",
        "Bundle.entry[3].resource.focus",
    ),
    "contact before the referral": (
        lambda: new_with(contact("c1", "2026-09-30T10:00:00Z")),
        422,
        "business-rule",
        "Bundle.entry[3].resource.period.start",
    ),
    "contact in the future": (
        lambda: new_with(contact("c1", "2099-01-01T10:00:00Z")),
        422,
        "business-rule",
        "Bundle.entry[3].resource.period.start",
    ),
    "score out of range": (
        lambda: new_with(
            assessment("a1", "ons4", "baseline", "2026-10-03", items={"ons4-anxiety": 11})
        ),
        422,
        "value",
        "Bundle.entry[3].resource.component[0].valueInteger",
    ),
    "total out of range": (
        lambda: new_with(assessment("a1", "wemwbs", "baseline", "2026-10-03", total=71)),
        422,
        "value",
        "Bundle.entry[3].resource.valueQuantity.value",
    ),
    "a total for an instrument that is not summed": (
        lambda: new_with(assessment("a1", "ons4", "baseline", "2026-10-03", total=20)),
        422,
        "business-rule",
        "Bundle.entry[3].resource.valueQuantity",
    ),
    "an item of another instrument": (
        lambda: new_with(
            assessment("a1", "wemwbs", "baseline", "2026-10-03", items={"ons4-anxiety": 3})
        ),
        422,
        "code-invalid",
        "Bundle.entry[3].resource.component[0].code",
    ),
    "unknown instrument timepoint": (
        lambda: new_with({**assessment("a1", "wemwbs", "midway", "2026-10-03", total=40)}),
        422,
        "required",
        "Bundle.entry[3].resource.extension",
    ),
    "unknown attendance code": (
        lambda: new_with(contact("c1", "2026-10-03T10:00:00Z", attendance="9")),
        422,
        "code-invalid",
        "Bundle.entry[3].resource.extension[1].value[x]",
    ),
    "unknown mechanism code": (
        lambda: new_with(contact("c1", "2026-10-03T10:00:00Z", mechanism="77")),
        422,
        "code-invalid",
        "Bundle.entry[3].resource.extension[0].value[x]",
    ),
    "accepted without a date": (
        lambda: new_with(task("t1", "accepted")),
        422,
        "required",
        "Bundle.entry[3].resource.executionPeriod.start",
    ),
    "support not from the support list": (
        lambda: new_with(
            task("t1", "accepted", accepted="2026-10-02", outputs=[support("yoga-retreat")])
        ),
        422,
        "code-invalid",
        "Bundle.entry[3].resource.output[0].type",
    ),
    "directory service id that is not a UUID": (
        lambda: new_with(
            task(
                "t1",
                "accepted",
                accepted="2026-10-02",
                outputs=[support("housing-advice", "referral", service_id="housing-1")],
            )
        ),
        422,
        "value",
        "Bundle.entry[3].resource.output[0].valueReference",
    ),
    "invalid NHS number on the Patient": (
        lambda: message(
            REQUEST,
            reason_code="new",
            timestamp="2026-10-01T09:05:00Z",
            patient=emis_patient("9434765918"),
        ),
        422,
        "value",
        "Bundle.entry[2].resource.identifier[0].value",
    ),
    "a resource a referral message may not carry": (
        lambda: new_with({"resourceType": "Claim", "id": "x"}),
        422,
        "not-supported",
        "Bundle.entry[3].resource.resourceType",
    ),
    "not a message bundle": (
        lambda: {**copy.deepcopy(NEW), "type": "transaction"},
        422,
        "code-invalid",
        "Bundle.type",
    ),
    "no bundle id": (
        lambda: {k: v for k, v in NEW.items() if k != "id"},
        400,
        "required",
        "Bundle.id",
    ),
    "header not first": (
        lambda: {**copy.deepcopy(NEW), "entry": list(reversed(NEW["entry"]))},
        422,
        "structure",
        "Bundle.entry[0].resource",
    ),
}


@pytest.mark.parametrize("case", CASES)
async def test_a_bad_message_is_refused_and_writes_nothing(client, referral_app, case):
    build, status, code, expression = CASES[case]
    response = await send(client, build())

    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    assert has_issue(body, code, expression), body
    for table in TABLES:
        assert await count_rows(referral_app, table) == 0, table


async def test_a_bad_resource_after_good_ones_leaves_the_referral_untouched(client, referral_app):
    await send(client, NEW)
    good_and_bad = message(
        REQUEST,
        task("t1", "accepted", accepted="2026-10-02"),
        contact("c1", "2026-10-03T10:00:00Z", attendance="9"),
        timestamp="2026-10-04T09:00:00Z",
    )
    response = await send(client, good_and_bad)

    assert response.status_code == 422
    assert await count_rows(referral_app, "referral_task") == 0
    assert await count_rows(referral_app, "processed_message") == 1


async def test_malformed_json_is_a_structure_error(client, referral_app):
    response = await send_raw(client, "/fhir/$process-message", b"{not json")

    assert response.status_code == 400
    assert response.json()["issue"][0]["code"] == "structure"


async def test_process_message_needs_the_write_scope(client):
    from tests.referral.conftest import READ

    response = await client.post("/fhir/$process-message", json=NEW, headers=READ)

    assert response.status_code == 403
    assert response.json()["resourceType"] == "OperationOutcome"


async def test_event_and_reason_systems_are_checked(client):
    body = copy.deepcopy(NEW)
    body["entry"][0]["resource"]["eventCoding"]["system"] = profiles.BARS_MESSAGE_REASON
    response = await send(client, body)

    assert response.status_code == 422
    assert "unknown message event" in response.json()["issue"][0]["diagnostics"]
