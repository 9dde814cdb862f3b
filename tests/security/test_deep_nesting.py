"""A body nested deeper than any resource is refused with 400, not answered with 500: Python's
JSON parser stops at its recursion limit (about 1,000 levels, fewer than orjson's 1,024), and the
readers after the body check recurse per level."""

import pytest

from tests.security.bodies import WRITERS


@pytest.mark.parametrize(
    "path", ["/fhir/ServiceRequest", "/fhir/$process-message", "/organizations"]
)
async def test_a_body_nested_a_thousand_levels_deep_is_400(referral, directory, path):
    client = directory if path == "/organizations" else referral
    body = '{"resourceType": "ServiceRequest", "x": ' + "[" * 1000 + "]" * 1000 + "}"

    response = await client.post(
        path,
        content=body.encode(),
        headers={**WRITERS[path], "Content-Type": "application/json"},
    )

    assert response.status_code == 400, response.text
    assert "nested more than 64 levels" in response.text
