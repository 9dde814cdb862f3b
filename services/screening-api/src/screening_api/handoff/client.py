"""Calling referral-api: bearer tokens and the calls the hand-off makes.

In development mode screening-api mints its own development token. Elsewhere it uses
`SCREENING_REFERRAL_API_TOKEN` if set, else OAuth2 client credentials
(`SCREENING_REFERRAL_TOKEN_URL`, `SCREENING_REFERRAL_CLIENT_ID`,
`SCREENING_REFERRAL_CLIENT_SECRET`), refreshed a minute before the token expires.
Every call has a timeout; no call is retried here (the outbox retries).
"""

import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from screening_api.config import ScreeningSettings
from signpost_platform.auth import mint_development_token
from signpost_platform.outbox import retry_after
from signpost_platform.outbox.worker import Undelivered

FHIR_JSON = "application/fhir+json"


class DeliveryError(Undelivered):
    """A call to referral-api failed; the message is safe to store and show (no personal data)."""


class Throttled(DeliveryError):
    """referral-api asked the caller to come back later (429 over its rate limit, or 503 while
    its database is away): retry after `retry_after` seconds, not after an error's backoff."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message, retry_after)


class TokenProvider:
    """Bearer tokens for referral-api, per the settings."""

    def __init__(self, settings: ScreeningSettings, http: httpx.AsyncClient) -> None:
        self.settings = settings
        self.http = http
        self._token: str | None = None
        self._expires_at = 0.0

    async def token(self) -> str:
        settings = self.settings
        if settings.referral_api_token is not None:
            return settings.referral_api_token.get_secret_value()
        if time.monotonic() < self._expires_at - 60 and self._token:
            return self._token
        if settings.referral_token_url:
            self._token, lifetime = await self._client_credentials()
        elif settings.auth_mode == "development":
            lifetime = 3600
            self._token = mint_development_token(
                settings.referral_token_scope.split(),
                subject="screening-api",
                client_id="screening-api",
                lifetime_seconds=lifetime,
            )
        else:
            raise DeliveryError(
                "no credentials for referral-api: set SCREENING_REFERRAL_API_TOKEN or "
                "SCREENING_REFERRAL_TOKEN_URL with a client id and secret"
            )
        self._expires_at = time.monotonic() + lifetime
        return self._token

    async def _client_credentials(self) -> tuple[str, float]:
        settings = self.settings
        secret = settings.referral_client_secret
        try:
            response = await self.http.post(
                str(settings.referral_token_url),
                data={"grant_type": "client_credentials", "scope": settings.referral_token_scope},
                auth=(
                    settings.referral_client_id or "",
                    secret.get_secret_value() if secret else "",
                ),
            )
        except httpx.HTTPError as error:
            raise DeliveryError(f"token endpoint unreachable: {type(error).__name__}") from None
        if response.status_code != 200:
            raise DeliveryError(f"token endpoint answered {response.status_code}")
        body = response.json()
        return str(body["access_token"]), float(body.get("expires_in", 300))


@dataclass(frozen=True, slots=True)
class CreatedReferral:
    id: str
    status: str | None


class ReferralApi:
    """The referral-api calls the hand-off needs."""

    def __init__(
        self, settings: ScreeningSettings, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        timeout = httpx.Timeout(settings.referral_api_timeout_seconds)
        self.http = httpx.AsyncClient(
            base_url=settings.referral_api_url.rstrip("/"), timeout=timeout, transport=transport
        )
        self.tokens = TokenProvider(settings, self.http)

    async def close(self) -> None:
        await self.http.aclose()

    async def _headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {await self.tokens.token()}",
            "Accept": FHIR_JSON,
        }

    async def create_referral(self, request: str, identifier: tuple[str, str]) -> CreatedReferral:
        """Conditional create: referral-api returns the existing referral if one has the id."""
        headers = await self._headers()
        headers["Content-Type"] = FHIR_JSON
        headers["If-None-Exist"] = (
            f"identifier={quote(identifier[0], safe=':/')}|{quote(identifier[1])}"
        )
        body = await self._call("POST", "/fhir/ServiceRequest", headers, content=request.encode())
        return CreatedReferral(str(body["id"]), body.get("status"))

    async def send_message(self, message: str) -> CreatedReferral:
        """`$process-message`: referral-api answers a resend of a message with its first answer,
        and a message for a referral it already holds updates that referral."""
        headers = await self._headers()
        headers["Content-Type"] = FHIR_JSON
        body = await self._call("POST", "/fhir/$process-message", headers, content=message.encode())
        return CreatedReferral(_focus_id(body), None)

    async def read_referral(self, referral_id: str) -> dict[str, Any]:
        return await self._call(
            "GET", f"/fhir/ServiceRequest/{quote(referral_id)}", await self._headers()
        )

    async def _call(
        self, method: str, path: str, headers: dict[str, str], content: bytes | None = None
    ) -> dict[str, Any]:
        try:
            response = await self.http.request(method, path, headers=headers, content=content)
        except httpx.TimeoutException:
            raise DeliveryError(f"referral-api timed out ({method} {path.split('/')[2]})") from None
        except httpx.HTTPError as error:
            raise DeliveryError(f"referral-api unreachable: {type(error).__name__}") from None
        if response.status_code in (429, 503):
            raise Throttled(
                f"referral-api answered {response.status_code}: {_diagnostics(response)}",
                retry_after(response.headers.get("retry-after")),
            )
        if response.status_code not in (200, 201):
            raise DeliveryError(
                f"referral-api answered {response.status_code}: {_diagnostics(response)}"
            )
        try:
            body = response.json()
        except ValueError:
            raise DeliveryError("referral-api answered with a body that is not JSON") from None
        if not isinstance(body, dict) or "id" not in body:
            raise DeliveryError("referral-api answered without a resource id")
        return body


def _focus_id(body: dict[str, Any]) -> str:
    """The id of the referral a response message is about (its header's focus)."""
    try:
        header = body["entry"][0]["resource"]
        reference = str(header["focus"][0]["reference"])
    except (KeyError, IndexError, TypeError):
        raise DeliveryError("referral-api answered without naming the referral") from None
    if header.get("response", {}).get("code") != "ok":
        raise DeliveryError("referral-api did not accept the message")
    return reference.rstrip("/").rsplit("/", 1)[-1]


def _diagnostics(response: httpx.Response) -> str:
    """The OperationOutcome's diagnostics (they name elements, never values), else the status."""
    try:
        issues = response.json().get("issue", [])
        return "; ".join(str(i.get("diagnostics", i.get("code", ""))) for i in issues)[:500]
    except (ValueError, AttributeError):
        return response.reason_phrase
