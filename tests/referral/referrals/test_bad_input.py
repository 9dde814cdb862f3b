"""Bad input gets the right 4xx, an OperationOutcome naming the element, and writes nothing."""

import pytest

from tests.referral.conftest import READ, WRITE, send_raw
from tests.support.builders import reason, service_request
from tests.support.clients import bearer
from tests.support.outcomes import has_issue
from tests.support.rows import count_rows


def without(key):
    body = service_request()
    del body[key]
    return body


def with_changes(change):
    body = service_request()
    change(body)
    return body


BAD_BODIES = {
    "wrong resourceType": (
        {**service_request(), "resourceType": "Patient"},
        400,
        "structure",
        "ServiceRequest.resourceType",
    ),
    "missing subject": (without("subject"), 400, "required", "ServiceRequest.subject"),
    "missing requester": (without("requester"), 400, "required", "ServiceRequest.requester"),
    "missing role": (without("performerType"), 400, "required", "ServiceRequest.performerType"),
    "missing referral date": (without("authoredOn"), 400, "required", "ServiceRequest.authoredOn"),
    "invalid NHS number": (
        with_changes(lambda b: b["subject"]["identifier"].update(value="9434765918")),
        422,
        "value",
        "ServiceRequest.subject.identifier.value",
    ),
    "SNOMED reason with a wrong check digit": (
        service_request(reasons=[reason("105531004"), reason("366979005")]),
        422,
        "code-invalid",
        "ServiceRequest.reasonCode[1].coding[0].code",
    ),
    "SNOMED reason that is a description id": (
        service_request(reasons=[reason("366979014")]),
        422,
        "code-invalid",
        "ServiceRequest.reasonCode[0].coding[0].code",
    ),
    "reason from a code system Signpost does not read": (
        service_request(reasons=[reason("105531004"), reason("XaX4A", "http://read.info/ctv3")]),
        422,
        "code-invalid",
        "ServiceRequest.reasonCode[1]",
    ),
    "role outside the six": (
        with_changes(lambda b: b["performerType"]["coding"][0].update(code="gp")),
        422,
        "code-invalid",
        "ServiceRequest.performerType",
    ),
    "two sources of referral": (
        with_changes(lambda b: b["extension"].append(dict(b["extension"][0]))),
        422,
        "required",
        "ServiceRequest.extension('https://fhir.hl7.org.uk/StructureDefinition/"
        "Extension-UKCore-SourceOfServiceRequest')",
    ),
    "source of referral with a malformed SNOMED code": (
        service_request(source=("http://snomed.info/sct", "999")),
        422,
        "code-invalid",
        "ServiceRequest.extension[0].valueCodeableConcept.coding[0].code",
    ),
    "source of referral outside its value set": (
        service_request(
            source=("https://signpost.nhs.example/CodeSystem/source-of-referral", "postman")
        ),
        422,
        "code-invalid",
        "ServiceRequest.extension[0].valueCodeableConcept",
    ),
    "same reason twice": (
        service_request(reasons=[reason("105531004"), reason("105531004")]),
        422,
        "duplicate",
        "ServiceRequest.reasonCode[1]",
    ),
    "reason not recorded beside a reason": (
        service_request(
            reasons=[
                reason(
                    "reason-not-recorded", "https://signpost.nhs.example/CodeSystem/referral-reason"
                ),
                reason("105531004"),
            ]
        ),
        422,
        "business-rule",
        "ServiceRequest.reasonCode",
    ),
    "modifierExtension on the resource": (
        {
            **service_request(),
            "modifierExtension": [{"url": "https://example.org/not-for", "valueBoolean": True}],
        },
        422,
        "not-supported",
        "ServiceRequest.modifierExtension",
    ),
    "modifierExtension deep inside an unknown element": (
        {
            **service_request(),
            "orderDetail": [
                {"modifierExtension": [{"url": "https://example.org/x", "valueBoolean": True}]}
            ],
        },
        422,
        "not-supported",
        "ServiceRequest.orderDetail[0].modifierExtension",
    ),
    "malformed coding inside a known element": (
        with_changes(lambda b: b["performerType"].update(coding="social-prescribing")),
        400,
        "structure",
        "ServiceRequest.performerType.coding",
    ),
    "ODS code malformed": (
        service_request(requester="not an ods code"),
        422,
        "value",
        "ServiceRequest.requester.identifier.value",
    ),
    "authored in the future": (
        service_request(authored="2099-01-01"),
        422,
        "value",
        "ServiceRequest.authoredOn",
    ),
    "authored without time zone": (
        service_request(authored="2026-01-01T10:00:00"),
        400,
        "structure",
        "ServiceRequest.authoredOn",
    ),
}


@pytest.mark.parametrize("case", BAD_BODIES, ids=list(BAD_BODIES))
async def test_invalid_referral_is_refused_naming_the_element(client, referral_app, case):
    body, status, code, expression = BAD_BODIES[case]

    response = await client.post("/fhir/ServiceRequest", json=body, headers=WRITE)

    assert response.status_code == status, response.text
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert has_issue(outcome, code, expression), outcome
    assert await count_rows(referral_app, "referral") == 0
    assert await count_rows(referral_app, "referral_reason") == 0


async def test_malformed_json_is_400_structure(client, referral_app):
    response = await send_raw(client, "/fhir/ServiceRequest", b'{"resourceType": "ServiceRequest",')

    assert response.status_code == 400
    assert response.json()["issue"][0]["code"] == "structure"
    assert await count_rows(referral_app, "referral") == 0


async def test_non_json_content_type_is_415(client):
    response = await send_raw(
        client, "/fhir/ServiceRequest", b"<ServiceRequest/>", "application/fhir+xml"
    )

    assert response.status_code == 415
    assert response.json()["resourceType"] == "OperationOutcome"


async def test_oversized_body_is_413_and_writes_nothing(client, referral_app):
    body = service_request()
    body["note"] = [{"text": "x" * 9_000} for _ in range(130)]  # about 1.2 MB

    response = await client.post("/fhir/ServiceRequest", json=body, headers=WRITE)

    assert response.status_code == 413
    assert response.json()["issue"][0]["code"] == "too-long"
    assert await count_rows(referral_app, "referral") == 0


async def test_page_size_over_the_cap_is_served_as_the_cap(client):
    response = await client.get("/fhir/ServiceRequest?_count=101", headers=READ)

    assert response.status_code == 200
    self_link = response.json()["link"][0]["url"]
    assert "_count=100" in self_link.split("?")[1].split("&")


async def test_malformed_page_size_is_400_naming_count(client):
    response = await client.get("/fhir/ServiceRequest?_count=abc", headers=READ)

    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["_count"]


async def test_unknown_search_parameter_is_refused_under_strict_handling(client):
    response = await client.get(
        "/fhir/ServiceRequest?colour=blue", headers={**READ, "Prefer": "handling=strict"}
    )

    assert response.status_code == 400
    assert response.json()["issue"][0]["code"] == "not-supported"
    assert response.json()["issue"][0]["expression"] == ["colour"]


async def test_invalid_nhs_number_in_search_is_400(client):
    response = await client.get("/fhir/ServiceRequest?patient.identifier=1234567890", headers=READ)

    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["patient.identifier"]


@pytest.mark.parametrize(
    "query, parameter",
    [
        ("authored=9999-12-31", "authored"),  # the day after is past the last representable day
        ("authored=le9999-12-31T23:59:59-23:59", "authored"),
        ("_count=%C2%B2", "_count"),  # a digit to str.isdigit, not to int()
        ("status=a%00b", "status"),  # PostgreSQL text cannot hold a NUL
    ],
)
async def test_search_value_out_of_range_is_400_naming_it(client, query, parameter):
    response = await client.get(f"/fhir/ServiceRequest?{query}", headers=READ)

    assert response.status_code == 400, response.text
    assert response.json()["issue"][0]["expression"] == [parameter]


async def test_sort_is_unknown_where_a_search_has_no_sort_keys(client):
    response = await client.get(
        "/fhir/Task?focus=ServiceRequest/x&_sort=authored",
        headers={**READ, "Prefer": "handling=strict"},
    )

    assert response.status_code == 400
    assert response.json()["issue"][0]["code"] == "not-supported"
    assert response.json()["issue"][0]["expression"] == ["_sort"]


async def test_audit_window_out_of_range_is_400_naming_it(client):
    response = await client.get(
        "/audit",
        params={"until": "9999-12-31T23:59:59-23:59"},
        headers=bearer("audit:read", "audit:all-organisations"),
    )

    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["parameter"] == "until"
