"""Bearer-token authentication with OAuth2 scopes.

Development mode (`make run`) verifies HS256 tokens signed with a well-known secret and says so
loudly in the log; mint one with `make token`. Production mode (`auth_mode=jwt`) verifies RS256 or
RS512 tokens against a JWKS (a file, or a URL fetched as `signpost_platform.jwks` describes),
checking `exp`, `aud` and `iss`. Development mode is refused when `environment=production`.

A 401 says what is wrong with the token, never why the JWKS could not be fetched (that is logged,
with the correlation id).
"""

import argparse
import json
import logging
import re
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from jwt.types import Options

from signpost_platform.errors import Forbidden, Unauthorized
from signpost_platform.jwks import JwksKeys, SigningKeyUnavailable
from signpost_platform.settings import DEV_AUDIENCE, DEV_ISSUER, DEV_TOKEN_SECRET, ServiceSettings

logger = logging.getLogger("signpost.auth")

BEARER_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="signpost"'}
ODS_CODE = re.compile(r"[A-Z0-9]{3,10}")
_VERIFIED_CACHE_SIZE = 10_000
# Subjects and client ids are stored with every audit event, in columns of this length.
MAX_IDENTITY_LENGTH = 255


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling: the token's subject, client, organisation and scopes."""

    subject: str
    client_id: str | None
    organisation_ods: str | None
    scopes: frozenset[str]

    def has(self, scope: str) -> bool:
        return scope in self.scopes


class Authenticator:
    """Verifies bearer tokens according to the service's settings."""

    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        self.jwks: JwksKeys | None = None
        self._file_keys: dict[str, Any] = {}
        # token -> (caller, expiry, key-set generation it was verified against)
        self._verified: dict[str, tuple[Caller, float, int]] = {}
        if settings.auth_mode == "development":
            logger.warning(
                "DEVELOPMENT AUTH MODE: bearer tokens are signed with a shared development "
                "secret and anyone can mint one (make token). Never expose this service.",
                extra={"auth_mode": "development"},
            )
        elif settings.jwks_url:
            self.jwks = JwksKeys(
                settings.jwks_url,
                timeout_seconds=settings.jwks_timeout_seconds,
                refresh_seconds=settings.jwks_refresh_seconds,
                max_age_seconds=settings.jwks_max_age_seconds,
                cooldown_seconds=settings.jwks_cooldown_seconds,
            )
        elif settings.jwks_file:
            keys = jwt.PyJWKSet.from_json(Path(settings.jwks_file).read_text()).keys
            self._file_keys = {key.key_id: key.key for key in keys if key.key_id}

    async def start(self) -> None:
        """Fetch the JWKS once at startup (a failure is logged; requests will retry)."""
        if self.jwks is not None:
            await self.jwks.refresh()

    async def close(self) -> None:
        if self.jwks is not None:
            await self.jwks.close()

    async def verify(self, token: str) -> Caller:
        """The caller a valid token names; raises `Unauthorized` otherwise.

        Integrations reuse a token for many requests, so a verified token is remembered until it
        expires or the key set changes (bounded cache), saving the signature check on every
        request.
        """
        now = time.time()
        if self.jwks is not None:
            await self.jwks.maintain()
        generation = self.jwks.generation if self.jwks is not None else 0
        cached = self._verified.get(token)
        if cached is not None:
            caller, expires_at, verified_generation = cached
            if now < expires_at and verified_generation == generation:
                return caller
            del self._verified[token]
        try:
            claims = await self._decode(token)
        except SigningKeyUnavailable:
            raise Unauthorized(
                "invalid bearer token: its signing key (kid) is not one this service trusts",
                headers=BEARER_CHALLENGE,
            ) from None
        except jwt.PyJWTError as error:
            raise Unauthorized(f"invalid bearer token: {error}", headers=BEARER_CHALLENGE) from None
        caller = caller_from_claims(claims, self.settings.jwt_organisation_claim)
        if len(self._verified) >= _VERIFIED_CACHE_SIZE:
            self._verified.clear()
        generation = self.jwks.generation if self.jwks is not None else 0
        self._verified[token] = (caller, float(claims["exp"]), generation)
        return caller

    async def _decode(self, token: str) -> dict[str, Any]:
        settings = self.settings
        options: Options = {"require": ["exp", "iat", "sub"]}
        if settings.auth_mode == "development":
            return jwt.decode(
                token,
                settings.dev_token_secret.get_secret_value(),
                algorithms=["HS256"],
                audience=settings.jwt_audience,
                issuer=settings.jwt_issuer,
                options=options,
            )
        header = jwt.get_unverified_header(token)
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise jwt.InvalidKeyError("the token names no signing key (kid)")
        if self.jwks is not None:
            key: Any = await self.jwks.key(kid)
        else:
            key = self._file_keys.get(kid)
            if key is None:
                raise SigningKeyUnavailable(kid)
        return jwt.decode(
            token,
            key,
            algorithms=settings.jwt_algorithms,
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options=options,
        )


def caller_from_claims(claims: dict[str, Any], organisation_claim: str = "ods") -> Caller:
    """The caller a verified token's claims name; `Unauthorized` if the claims are malformed
    (a signature proves who issued a token, not that its claims have the right shape)."""
    raw_scopes = claims.get("scope", claims.get("scp", ""))
    if isinstance(raw_scopes, str):
        scopes = raw_scopes.split()
    elif isinstance(raw_scopes, list) and all(isinstance(scope, str) for scope in raw_scopes):
        scopes = raw_scopes
    else:
        raise _malformed("scope must be a space-separated string or a list of strings")
    client_id = claims.get("client_id") or claims.get("azp")
    return Caller(
        subject=_identity("sub", claims["sub"]),
        client_id=None if client_id is None else _identity("client_id", client_id),
        organisation_ods=_ods_code(claims.get(organisation_claim)),
        scopes=frozenset(scopes),
    )


def _identity(claim: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _malformed(f"{claim} must be a non-empty string")
    if len(value) > MAX_IDENTITY_LENGTH:
        raise _malformed(f"{claim} is longer than {MAX_IDENTITY_LENGTH} characters")
    if "\x00" in value:
        raise _malformed(f"{claim} contains a NUL character")
    return value


def _malformed(reason: str) -> Unauthorized:
    return Unauthorized(f"invalid bearer token: {reason}", headers=BEARER_CHALLENGE)


def _ods_code(value: Any) -> str | None:
    """An ODS code claim, upper-cased as records store it; None (no organisation, so no
    organisation's records) if absent or not an ODS code."""
    if not isinstance(value, str) or not value.isascii():
        return None
    code = value.strip().upper()
    return code if ODS_CODE.fullmatch(code) else None


def bearer_token(authorization: str) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, whatever the whitespace and the
    case of the scheme; None if the header is not a bearer credential.

    The rate limiter keys on the same value, so respacing a header does not make a new client.
    """
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


async def authenticate(request: Request) -> Caller:
    """The caller the request's bearer token names, or 401."""
    token = bearer_token(request.headers.get("authorization", ""))
    if token is None:
        raise Unauthorized("a bearer token is required", headers=BEARER_CHALLENGE)
    authenticator: Authenticator = request.app.state.authenticator
    return await authenticator.verify(token)


@dataclass(frozen=True, slots=True)
class RequiredScope:
    """What a route needs of its caller's token: called with the request, the caller if the
    token grants `scope`, else 401/403.

    A route declares it as a parameter (`require_scope`), which is how the OpenAPI document
    learns the route's scope; `signpost_platform.routing.CheckedRoute` calls it before FastAPI
    solves the route's other parameters. async: a plain def would be run in a worker thread."""

    scope: str

    async def __call__(self, request: Request) -> Caller:
        caller = await authenticate(request)
        if not caller.has(self.scope):
            raise Forbidden(f"this operation needs the scope {self.scope}")
        return caller


def required_scope(dependant: Dependant) -> str | None:
    """The scope a `RequiredScope` among `dependant`'s dependencies, at any depth, asks for (the
    first found); None if none does."""
    for sub in dependant.dependencies:
        if isinstance(sub.call, RequiredScope):
            return sub.call.scope
        if (found := required_scope(sub)) is not None:
            return found
    return None


def require_scope(scope: str) -> Any:
    """The parameter default of a route's caller: the caller if its token grants `scope`, else
    401/403 (`RequiredScope`)."""
    return Depends(RequiredScope(scope))


def mint_development_token(
    scopes: list[str],
    *,
    subject: str = "dev-user",
    client_id: str = "signpost-dev-client",
    ods: str | None = None,
    lifetime_seconds: int = 8 * 3600,
    secret: str = DEV_TOKEN_SECRET,
) -> str:
    """A token that development-mode services accept. Useless against production settings."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": DEV_ISSUER,
        "aud": DEV_AUDIENCE,
        "sub": subject,
        "client_id": client_id,
        "scope": " ".join(scopes),
        "iat": now,
        "exp": now + lifetime_seconds,
        "jti": str(uuid.uuid4()),
    }
    if ods:
        claims["ods"] = ods
    return jwt.encode(claims, secret, algorithm="HS256")


ALL_DEVELOPMENT_SCOPES = [
    "referral:read",
    "referral:write",
    "referral:all-organisations",
    "referral:export",
    "referral:export-identifiable",
    "directory:write",
    "screening:read",
    "screening:write",
    "screening:all-organisations",
    "reports:read",
    "audit:read",
    "audit:all-organisations",
]


def main() -> None:
    """`python -m signpost_platform.auth`: print a development token."""
    parser = argparse.ArgumentParser(description="Mint a development bearer token.")
    parser.add_argument("--scope", action="append", help="a scope to grant (repeatable)")
    parser.add_argument("--subject", default="dev-user")
    parser.add_argument("--ods", help="the caller's organisation ODS code")
    parser.add_argument("--hours", type=float, default=8)
    parser.add_argument("--claims", action="store_true", help="print the claims too")
    args = parser.parse_args()
    token = mint_development_token(
        args.scope or ALL_DEVELOPMENT_SCOPES,
        subject=args.subject,
        ods=args.ods,
        lifetime_seconds=int(args.hours * 3600),
    )
    if args.claims:
        print(json.dumps(jwt.decode(token, options={"verify_signature": False}), indent=2))
    print(token)


if __name__ == "__main__":
    main()
