"""How a client learns to get a token: each service's SMART configuration and the security of its
CapabilityStatement, built from the settings, public (no token) and the same in every service."""

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from pydantic import ValidationError

from directory_api.config import DirectorySettings
from directory_api.main import create_app as create_directory_app
from referral_api.config import ReferralSettings
from referral_api.main import create_app as create_referral_app
from screening_api.config import ScreeningSettings
from screening_api.main import create_app as create_screening_app
from signpost_platform.auth import ALL_DEVELOPMENT_SCOPES
from signpost_platform.openapi_docs import operation_scopes
from signpost_platform.smart import service_scopes

SECURITY_SERVICE = "http://terminology.hl7.org/CodeSystem/restful-security-service"
OAUTH_URIS = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"
TOKEN_URL = "https://auth.example.org/oauth2/token"
JWKS_URL = "https://auth.example.org/.well-known/jwks.json"
PATHS = ("/fhir/.well-known/smart-configuration", "/.well-known/smart-configuration")
JWT = {
    "auth_mode": "jwt",
    "jwks_url": JWKS_URL,
    "jwt_issuer": "https://auth.example.org",
    "jwt_audience": "signpost-screening-api",
}


def screening_app(**settings: Any) -> FastAPI:
    return create_screening_app(
        ScreeningSettings(
            database_url="sqlite+aiosqlite://",
            environment="test",
            handoff_worker_enabled=False,
            **settings,
        )
    )


async def _get(app: FastAPI, path: str) -> httpx.Response:
    # These answers come from the settings alone: no lifespan, no database, no token.
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://screening.example.org"
    ) as client:
        return await client.get(path)


async def _configuration(app: FastAPI) -> dict[str, Any]:
    fhir, root = [await _get(app, path) for path in PATHS]
    assert fhir.status_code == root.status_code == 200
    assert fhir.headers["content-type"] == "application/json"
    assert fhir.json() == root.json()
    return fhir.json()  # type: ignore[no-any-return]


async def _security(app: FastAPI) -> dict[str, Any]:
    response = await _get(app, "/fhir/metadata")
    CapabilityStatement.model_validate(response.json())
    return response.json()["rest"][0]["security"]  # type: ignore[no-any-return]


async def test_with_a_token_endpoint_clients_are_sent_to_it_smart_backend_services():
    app = screening_app(**JWT, oauth_token_url=TOKEN_URL)

    configuration = await _configuration(app)
    security = await _security(app)

    assert configuration == {
        "token_endpoint": TOKEN_URL,
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "grant_types_supported": ["client_credentials"],
        "jwks_uri": JWKS_URL,
        "scopes_supported": [
            "audit:all-organisations",
            "audit:read",
            "reports:read",
            "reports:unsuppressed",
            "screening:all-organisations",
            "screening:read",
            "screening:write",
        ],
        "capabilities": ["client-confidential-asymmetric"],
        "signpost_auth_mode": "jwt",
        "signpost_description": configuration["signpost_description"],
    }
    assert security["service"][0]["coding"] == [
        {"system": SECURITY_SERVICE, "code": "SMART-on-FHIR", "display": "SMART-on-FHIR"}
    ]
    assert security["extension"] == [
        {"url": OAUTH_URIS, "extension": [{"url": "token", "valueUri": TOKEN_URL}]}
    ]
    for text in ("https://auth.example.org", "signpost-screening-api", TOKEN_URL):
        assert text in security["description"]
    assert (
        "https://screening.example.org/fhir/.well-known/smart-configuration"
        in security["description"]
    )


async def test_shared_secret_clients_are_confidential_symmetric():
    app = screening_app(
        **JWT, oauth_token_url=TOKEN_URL, oauth_token_auth_methods=["client_secret_basic"]
    )

    configuration = await _configuration(app)

    assert configuration["token_endpoint_auth_methods_supported"] == ["client_secret_basic"]
    assert configuration["capabilities"] == ["client-confidential-symmetric"]


async def test_without_a_token_endpoint_no_grant_is_claimed_and_the_service_is_oauth():
    app = screening_app(**JWT)

    configuration = await _configuration(app)
    security = await _security(app)

    assert "token_endpoint" not in configuration
    assert (configuration["grant_types_supported"], configuration["capabilities"]) == ([], [])
    assert configuration["jwks_uri"] == JWKS_URL
    assert security["service"][0]["coding"][0]["code"] == "OAuth"
    assert "extension" not in security
    assert "identity provider" in security["description"]


async def test_development_mode_says_tokens_are_minted_locally_whatever_the_settings():
    app = screening_app(oauth_token_url=TOKEN_URL)

    configuration = await _configuration(app)
    security = await _security(app)

    assert "token_endpoint" not in configuration and "jwks_uri" not in configuration
    assert (configuration["grant_types_supported"], configuration["capabilities"]) == ([], [])
    assert configuration["signpost_auth_mode"] == "development"
    assert "make token" in configuration["signpost_description"]
    assert security["service"][0]["coding"][0]["code"] == "OAuth"
    assert "make token" in security["description"]


def test_every_scope_a_service_checks_is_in_its_configuration():
    apps = {
        "referral": create_referral_app(
            ReferralSettings(database_url="sqlite+aiosqlite://", environment="test")
        ),
        "directory": create_directory_app(
            DirectorySettings(database_url="sqlite+aiosqlite://", environment="test")
        ),
        "screening": screening_app(),
    }
    listed = {name: set(service_scopes(app)) for name, app in apps.items()}

    for name, app in apps.items():
        required = {scope for scope in operation_scopes(app).values() if scope}
        assert required <= listed[name], name
    assert set().union(*listed.values()) == {*ALL_DEVELOPMENT_SCOPES, "reports:unsuppressed"}
    assert "directory:write" in listed["directory"]
    assert {"referral:all-organisations", "audit:all-organisations"} <= listed["referral"]


@pytest.mark.parametrize(
    "settings",
    [
        {"environment": "production", "oauth_token_url": "http://auth.example.org/token"},
        {"oauth_token_url": "auth.example.org/token"},
        {"oauth_token_auth_methods": []},
        {"oauth_token_auth_methods": ["password"]},
    ],
    ids=["http in production", "not a URL", "no method", "unknown method"],
)
def test_token_endpoint_settings_are_checked(settings: dict[str, Any]):
    values = {"database_url": "sqlite+aiosqlite://", "environment": "test", **JWT, **settings}
    with pytest.raises(ValidationError):
        DirectorySettings(**values)
