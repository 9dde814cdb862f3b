"""Production token verification (RS256 via a JWKS) and the guard against development mode."""

import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from pydantic import ValidationError

from signpost_platform.auth import Authenticator
from signpost_platform.errors import Unauthorized
from tests.support.clients import production_referral_settings, token_claims


@pytest.fixture(scope="module")
def signing_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def jwks_settings(tmp_path, signing_key):
    public = json.loads(RSAAlgorithm.to_jwk(signing_key.public_key()))
    public.update(kid="key-1", use="sig", alg="RS256")
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [public]}))
    return production_referral_settings(
        auth_mode="jwt",
        jwks_file=path,
        jwt_issuer="https://auth.example.nhs.uk",
        jwt_audience="signpost-referral",
    )


def signed(key, kid="key-1", **overrides):
    claims = token_claims(
        "https://auth.example.nhs.uk",
        "signpost-referral",
        300,
        {"sub": "client-1", "scope": "referral:read", "ods": "F84001"},
        overrides,
    )
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


async def test_rs256_token_from_the_jwks_is_accepted(jwks_settings, signing_key):
    caller = await Authenticator(jwks_settings).verify(signed(signing_key))

    assert caller.subject == "client-1"
    assert caller.organisation_ods == "F84001"
    assert caller.has("referral:read")


async def test_the_organisation_comes_from_the_configured_claim(jwks_settings, signing_key):
    settings = jwks_settings.model_copy(update={"jwt_organisation_claim": "org_code"})
    token = signed(signing_key, ods="F84001", org_code=" y02001 ")

    caller = await Authenticator(settings).verify(token)

    assert caller.organisation_ods == "Y02001"


@pytest.mark.parametrize(
    "change",
    [
        {"kid": "unknown"},
        {"aud": "someone-else"},
        {"iss": "https://evil.example"},
        {"exp": int(time.time()) - 10},
    ],
    ids=["unknown kid", "wrong audience", "wrong issuer", "expired"],
)
async def test_rs256_token_with_a_bad_claim_or_key_is_refused(jwks_settings, signing_key, change):
    kid = change.pop("kid", "key-1")
    with pytest.raises(Unauthorized):
        await Authenticator(jwks_settings).verify(signed(signing_key, kid=kid, **change))


async def test_token_signed_by_another_key_is_refused(jwks_settings):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(Unauthorized):
        await Authenticator(jwks_settings).verify(signed(other))


async def test_development_token_is_refused_by_production_settings(jwks_settings):
    from signpost_platform.auth import mint_development_token

    with pytest.raises(Unauthorized):
        await Authenticator(jwks_settings).verify(mint_development_token(["referral:read"]))


async def test_development_auth_cannot_be_enabled_in_production():
    with pytest.raises(ValidationError, match="cannot be used with environment=production"):
        production_referral_settings(auth_mode="development")
