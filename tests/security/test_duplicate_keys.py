"""A JSON object that gives a key twice is refused (400 naming the key) by every service.
Parsers disagree on which value wins; the services used to keep the last one silently."""

import orjson

from tests.directory.builders import organization
from tests.screening.builders import screening_response
from tests.security.bodies import (
    DIRECTORY_WRITE,
    FHIR_JSON,
    REFERRAL_WRITE,
    SCREENING_WRITE,
    named,
    new_referral,
)


def with_repeated_key(document: dict, key: str, second_value: object) -> bytes:
    """`document` as JSON with `key` given again at the end of the top-level object."""
    text = orjson.dumps(document)
    return text[:-1] + b"," + orjson.dumps(key) + b":" + orjson.dumps(second_value) + b"}"


async def test_a_referral_with_status_given_twice_is_400_naming_status(referral):
    body = with_repeated_key(new_referral(status="active"), "status", "draft")

    response = await referral.post(
        "/fhir/ServiceRequest", content=body, headers={**REFERRAL_WRITE, **FHIR_JSON}
    )

    assert response.status_code == 400, response.text
    assert named(response) == "status"
    assert "more than once" in response.json()["issue"][0]["diagnostics"]


async def test_a_nested_repeated_key_is_refused(referral):
    body = orjson.dumps(new_referral()).replace(
        b'"intent":"order"', b'"intent":"order","intent":"plan"'
    )

    response = await referral.post(
        "/fhir/ServiceRequest", content=body, headers={**REFERRAL_WRITE, **FHIR_JSON}
    )

    assert response.status_code == 400
    assert named(response) == "intent"


async def test_directory_refuses_a_repeated_key(directory):
    body = with_repeated_key(organization(), "name", "Another name")

    response = await directory.post(
        "/organizations",
        content=body,
        headers={**DIRECTORY_WRITE, "Content-Type": "application/json"},
    )

    assert response.status_code == 400, response.text
    assert named(response) == "name"


async def test_screening_refuses_a_repeated_key(screening):
    body = with_repeated_key(screening_response(), "status", "in-progress")

    response = await screening.post(
        "/fhir/QuestionnaireResponse", content=body, headers={**SCREENING_WRITE, **FHIR_JSON}
    )

    assert response.status_code == 400, response.text
    assert named(response) == "status"
