"""A JWKS endpoint on a loopback port, for the token verification tests.

A real HTTP server (asyncio streams on 127.0.0.1, an ephemeral port) so the services fetch keys
exactly as they would from an identity provider. Tests change what it serves, make it fail, or
hold its answers until released.
"""

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any, NamedTuple

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from referral_api.config import ReferralSettings
from referral_api.main import create_app
from tests.support.clients import running, token_claims

ISSUER = "https://auth.example.nhs.uk"
AUDIENCE = "signpost-referral"
# Who the tokens name, and what they grant, unless a test says otherwise.
CLIENT = {
    "sub": "client-1",
    "client_id": "client-1",
    "scope": "referral:read referral:all-organisations",
}


class SigningKey:
    """An RSA key pair with a key id: its public JWK, and tokens signed with it."""

    def __init__(self, kid: str) -> None:
        self.kid = kid
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwk(self) -> dict[str, Any]:
        public = json.loads(RSAAlgorithm.to_jwk(self.private.public_key()))
        return {**public, "kid": self.kid, "use": "sig", "alg": "RS256"}

    def token(self, **claims: Any) -> str:
        payload = token_claims(ISSUER, AUDIENCE, 600, CLIENT, claims)
        return jwt.encode(payload, self.private, algorithm="RS256", headers={"kid": self.kid})


class JwksServer:
    """Serves `{"keys": [...]}` for `keys`; `status` other than 200 fails; `hold` delays answers
    until `release()` is called (or the server stops)."""

    def __init__(self) -> None:
        self.keys: list[SigningKey] = []
        self.status = 200
        self.requests = 0
        self._released = asyncio.Event()
        self._released.set()
        self._server: asyncio.Server | None = None
        self.url = ""

    def hold(self) -> None:
        self._released.clear()

    def release(self) -> None:
        self._released.set()

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while (await reader.readline()) not in (b"\r\n", b""):
                pass
            self.requests += 1
            await self._released.wait()
            body = json.dumps({"keys": [key.jwk() for key in self.keys]}).encode()
            reason = "OK" if self.status == 200 else "Error"
            writer.write(
                f"HTTP/1.1 {self.status} {reason}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                + body
            )
            await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    @asynccontextmanager
    async def running(self) -> AsyncIterator["JwksServer"]:
        self._server = await asyncio.start_server(self._answer, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/.well-known/jwks.json"
        try:
            yield self
        finally:
            self.release()
            self._server.close()
            await self._server.wait_closed()


class Clock:
    """A monotonic clock that tests move on by hand."""

    def __init__(self) -> None:
        self.now = time.monotonic()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class TrustingApi(NamedTuple):
    """referral-api trusting a JWKS server: the server, a client of the app, the app's key set
    and the clock that key set reads."""

    jwks: JwksServer
    client: httpx.AsyncClient
    trusted: Any
    clock: Clock


@asynccontextmanager
async def referral_api_trusting(
    database_url: str, keys: Iterable[SigningKey], **jwks_timings: float
) -> AsyncIterator[TrustingApi]:
    """A JWKS server serving `keys`, and referral-api verifying RS256 tokens against it
    (`jwks_timings`: its JWKS settings such as `jwks_cooldown_seconds`), its key set on a clock
    the test moves."""
    async with JwksServer().running() as jwks:
        jwks.keys = list(keys)
        settings = ReferralSettings(
            database_url=database_url,
            environment="test",
            auth_mode="jwt",
            jwks_url=jwks.url,
            jwt_issuer=ISSUER,
            jwt_audience=AUDIENCE,
            **jwks_timings,
        )
        app = create_app(settings)
        async with running(app, "http://referral.test") as client:
            trusted = app.state.authenticator.jwks
            trusted.clock = Clock()
            yield TrustingApi(jwks, client, trusted, trusted.clock)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
