"""How a client gets a token: the SMART configuration and the CapabilityStatement's security.

Signpost's services verify bearer tokens; they never issue them. An authorisation server does
(the NHS API platform or the organisation's identity provider), and clients find it here, in the
two places FHIR clients look:

* `GET /fhir/.well-known/smart-configuration` (SMART App Launch 2.x discovery, under the FHIR
  base where SMART clients look for it) and the same document at `GET
  /.well-known/smart-configuration`: the token endpoint, how clients authenticate there, the
  client credentials grant (SMART Backend Services), the scopes this service understands and the
  key set tokens are signed with. No token is needed to read it.
* `CapabilityStatement.rest.security`: `service` SMART-on-FHIR when a token endpoint is
  configured (OAuth otherwise), a description naming the issuer and audience tokens must carry,
  and the SMART `oauth-uris` extension with the token endpoint.

Both are built from the settings (`jwt_issuer`, `jwt_audience`, `jwks_url`, `oauth_token_url`,
`oauth_token_auth_methods`). In development mode there is no authorisation server: tokens are
minted with `make token`, and both documents say so instead of naming a token endpoint.
"""

from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

from signpost_platform.openapi_docs import operation_scopes
from signpost_platform.routing import CheckedRoute
from signpost_platform.settings import ServiceSettings
from signpost_schemas.fhir.capability_statement import RestSecurity
from signpost_schemas.fhir.datatypes import CodeableConcept, Coding, Extension

RESTFUL_SECURITY_SERVICE = "http://terminology.hl7.org/CodeSystem/restful-security-service"
OAUTH_URIS = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"
SMART_CONFIGURATION_PATH = "/.well-known/smart-configuration"
# SMART's capability for each client authentication method at the token endpoint.
CLIENT_CAPABILITIES = {
    "private_key_jwt": "client-confidential-asymmetric",
    "client_secret_basic": "client-confidential-symmetric",
    "client_secret_post": "client-confidential-symmetric",
}
DEVELOPMENT_NOTE = (
    "Development mode, not secure: there is no authorisation server. Bearer tokens are HS256 "
    "JWTs signed with a shared development secret and minted with `make token`; the scopes are "
    "those of production."
)


def token_endpoint(settings: ServiceSettings) -> str | None:
    """The token endpoint clients use, when this service accepts tokens from one (jwt mode)."""
    if settings.auth_mode != "jwt":
        return None
    return settings.oauth_token_url


def security_description(settings: ServiceSettings) -> str:
    """What a client must send, in words, for the CapabilityStatement and the SMART document."""
    if settings.auth_mode == "development":
        return DEVELOPMENT_NOTE
    issued = (
        f"OAuth2 bearer tokens (signed JWTs, {' or '.join(settings.jwt_algorithms)}) issued by "
        f"{settings.jwt_issuer} for the audience {settings.jwt_audience}, with the scope each "
        "operation names"
    )
    endpoint = token_endpoint(settings)
    if endpoint is None:
        return f"{issued}. Obtain them from your organisation's identity provider."
    methods = ", ".join(settings.oauth_token_auth_methods)
    return (
        f"{issued}. Obtain them at {endpoint} with the client credentials grant (SMART Backend "
        f"Services; client authentication {methods})."
    )


def rest_security(settings: ServiceSettings, *, fhir_base: str, cors: bool) -> RestSecurity:
    """`CapabilityStatement.rest.security` for these settings (`fhir_base`: the FHIR base URL)."""
    endpoint = token_endpoint(settings)
    code = "OAuth" if endpoint is None else "SMART-on-FHIR"
    return RestSecurity(
        extension=None
        if endpoint is None
        else [Extension(url=OAUTH_URIS, extension=[Extension(url="token", valueUri=endpoint)])],
        cors=cors,
        service=[
            CodeableConcept(
                coding=[Coding(system=RESTFUL_SECURITY_SERVICE, code=code, display=code)],
                text="OAuth2 bearer token (JWT) with scopes per operation"
                if endpoint is None
                else "SMART Backend Services: OAuth2 client credentials, bearer JWT with scopes",
            )
        ],
        description=f"{security_description(settings)} The SMART configuration (token "
        f"endpoint, grant, scopes) is at {fhir_base}{SMART_CONFIGURATION_PATH}.",
    )


def smart_configuration(settings: ServiceSettings, scopes: Sequence[str]) -> dict[str, Any]:
    """The SMART App Launch 2.x configuration document for these settings.

    With a token endpoint (jwt mode): the Backend Services profile (client credentials grant;
    `issuer` is left out, as SMART asks when OpenID Connect is not offered). Without one: no grant
    and no capability, with `signpost_auth_mode` and `signpost_description` saying what applies.
    """
    endpoint = token_endpoint(settings)
    document: dict[str, Any] = {}
    if endpoint is not None:
        methods = list(settings.oauth_token_auth_methods)
        document.update(
            token_endpoint=endpoint,
            token_endpoint_auth_methods_supported=methods,
            grant_types_supported=["client_credentials"],
        )
        capabilities = sorted({CLIENT_CAPABILITIES[method] for method in methods})
    else:
        document["grant_types_supported"] = []
        capabilities = []
    if settings.auth_mode == "jwt" and settings.jwks_url:
        document["jwks_uri"] = settings.jwks_url
    document.update(
        scopes_supported=sorted(scopes),
        capabilities=capabilities,
        signpost_auth_mode=settings.auth_mode,
        signpost_description=security_description(settings),
    )
    return document


def service_scopes(app: FastAPI) -> list[str]:
    """Every scope the app understands: those its operations need, and the ones that widen
    access (`...:all-organisations`) the service declared to `create_app`."""
    scopes: list[str] | None = getattr(app.state, "scopes_supported", None)
    if scopes is None:
        required = {scope for scope in operation_scopes(app).values() if scope}
        scopes = sorted(required | set(app.state.wider_scopes))
        app.state.scopes_supported = scopes
    return scopes


router = APIRouter(route_class=CheckedRoute, tags=["authorisation"])

SUMMARY = "How to obtain a token: the token endpoint, grant, scopes (SMART configuration)"
DESCRIPTION = (
    "SMART App Launch 2.x discovery, built from the service's settings: with a token endpoint, "
    "SMART Backend Services (client credentials); in development mode, no grant and a "
    "`signpost_description` saying how tokens are minted. No token needed."
)


async def _configuration(request: Request) -> JSONResponse:
    app = request.app
    return JSONResponse(smart_configuration(app.state.settings, service_scopes(app)))


router.add_api_route(
    f"/fhir{SMART_CONFIGURATION_PATH}",
    _configuration,
    methods=["GET"],
    operation_id="smartConfiguration",
    summary=SUMMARY,
    description=DESCRIPTION + " Served under the FHIR base, where SMART clients look for it.",
    response_class=JSONResponse,
)
router.add_api_route(
    SMART_CONFIGURATION_PATH,
    _configuration,
    methods=["GET"],
    operation_id="smartConfigurationAtRoot",
    summary=SUMMARY,
    description=DESCRIPTION + " The same document as `GET /fhir" + SMART_CONFIGURATION_PATH + "`.",
    response_class=JSONResponse,
)
