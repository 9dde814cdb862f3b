"""Bearer tokens and scopes on the referral endpoints."""

import jwt

from signpost_platform.auth import mint_development_token
from tests.referral.conftest import READ
from tests.support.builders import service_request
from tests.support.clients import bearer
from tests.support.rows import count_rows


async def test_no_token_is_401_with_a_challenge(client):
    response = await client.get("/fhir/ServiceRequest")

    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["issue"][0]["code"] == "login"


async def test_read_scope_cannot_create(client, referral_app):
    response = await client.post("/fhir/ServiceRequest", json=service_request(), headers=READ)

    assert response.status_code == 403
    assert "referral:write" in response.json()["issue"][0]["diagnostics"]
    assert await count_rows(referral_app, "referral") == 0


async def test_write_scope_alone_cannot_search(client):
    response = await client.get("/fhir/ServiceRequest", headers=bearer("referral:write"))

    assert response.status_code == 403


async def test_token_signed_with_another_secret_is_401(client):
    forged = mint_development_token(
        ["referral:read"], secret="not-the-development-secret-but-long-enough-for-hs256"
    )

    response = await client.get(
        "/fhir/ServiceRequest", headers={"Authorization": f"Bearer {forged}"}
    )

    assert response.status_code == 401


async def test_expired_token_is_401(client):
    expired = mint_development_token(["referral:read"], lifetime_seconds=-60)

    response = await client.get(
        "/fhir/ServiceRequest", headers={"Authorization": f"Bearer {expired}"}
    )

    assert response.status_code == 401
    assert "expired" in response.json()["issue"][0]["diagnostics"]


async def test_token_for_another_audience_is_401(client):
    claims = jwt.decode(
        mint_development_token(["referral:read"]), options={"verify_signature": False}
    )
    claims["aud"] = "someone-else"
    token = jwt.encode(claims, "signpost-development-only-secret-never-use-in-production")

    response = await client.get(
        "/fhir/ServiceRequest", headers={"Authorization": f"Bearer {token}"}
    )

    assert response.status_code == 401


async def test_metadata_needs_no_token(client):
    assert (await client.get("/fhir/metadata")).status_code == 200
