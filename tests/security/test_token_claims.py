"""A signed token whose claims have the wrong shape is 401, not 500: `scope` as a number, or a
`sub` or `client_id` longer than the 255 characters audit events store."""

import jwt
import pytest

from signpost_platform.settings import DEV_AUDIENCE, DEV_ISSUER, DEV_TOKEN_SECRET
from tests.security.jwks_server import CLIENT
from tests.support.clients import token_claims


def token(**claims: object) -> dict[str, str]:
    payload = token_claims(DEV_ISSUER, DEV_AUDIENCE, 600, {**CLIENT, "sub": "dev-user"}, claims)
    encoded = jwt.encode(payload, DEV_TOKEN_SECRET, algorithm="HS256")
    return {"Authorization": f"Bearer {encoded}"}


@pytest.mark.parametrize(
    "claims",
    [{"scope": 12345}, {"scope": [1, 2]}, {"sub": "s" * 300}, {"client_id": "c" * 300}],
    ids=["scope number", "scope list of numbers", "long sub", "long client_id"],
)
async def test_a_token_with_malformed_claims_is_401(referral, claims):
    response = await referral.get("/fhir/ServiceRequest", headers=token(**claims))

    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_a_token_with_well_formed_claims_is_accepted(referral):
    response = await referral.get("/fhir/ServiceRequest", headers=token(sub="s" * 255))

    assert response.status_code == 200, response.text
