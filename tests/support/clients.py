"""In-process service apps and HTTP clients: the real app, its lifespan and a real database."""

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import APIRouter, FastAPI

from referral_api.config import ReferralSettings
from referral_api.main import create_app as create_referral_app
from referral_api.reports.facts import PseudonymKeyChanged
from signpost_platform.app import create_app as create_platform_app
from signpost_platform.auth import mint_development_token
from signpost_platform.db import database_unavailable
from tests.support import fhir_corpus


def platform_app(
    *routers: APIRouter, configure: Callable[[FastAPI], None] | None = None
) -> FastAPI:
    """A service built by the platform's app factory around `routers` (and `configure`), on an
    in-memory SQLite database: for what the platform gives every service."""
    return create_platform_app(
        service_name="referral",
        title="t",
        version="1",
        description="",
        settings=ReferralSettings(database_url="sqlite+aiosqlite://"),
        routers=list(routers),
        configure=configure,
    )


def bearer(*scopes: str, ods: str | None = None) -> dict[str, str]:
    """An Authorization header with a development token granting `scopes`."""
    return {"Authorization": f"Bearer {mint_development_token(list(scopes), ods=ods)}"}


def token_claims(
    issuer: str, audience: str, lifetime: int, *claims: Mapping[str, Any]
) -> dict[str, Any]:
    """The claims of a token `issuer` issues now for `audience`, valid for `lifetime` seconds,
    then each of `claims` in turn (a later one adds to or overrides the ones before it)."""
    now = int(time.time())
    merged: dict[str, Any] = {"iss": issuer, "aud": audience, "iat": now, "exp": now + lifetime}
    for more in claims:
        merged.update(more)
    return merged


def fresh_reports(app: FastAPI) -> Callable[[httpx.Request], Awaitable[None]]:
    """A request hook that brings referral-api's report facts up to date before each report
    request, as its refresh worker would have by then: report requests only read, and the
    worker is off under test (tests/conftest.py), so what a test wrote is in the next report
    it asks for, deterministically. A test that wants the facts as they stand uses a client
    without the hook (`unrefreshed_client`)."""

    async def hook(request: httpx.Request) -> None:
        refresher = getattr(app.state, "report_facts", None)
        if refresher is None or not request.url.path.startswith("/reports/"):
            return
        try:
            await refresher.refresh()
        except PseudonymKeyChanged:
            pass  # the report itself answers 503
        except Exception as error:
            if not database_unavailable(error):  # else the report itself answers 503
                raise

    return hook


@asynccontextmanager
async def running(app: FastAPI, base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """Run `app`'s lifespan and yield a client that talks to it in-process. Every FHIR resource
    it receives is kept for the R4 validation at the end of the run (`fhir_corpus`); report
    requests see every write made before them (`fresh_reports`)."""
    async with app.router.lifespan_context(app):
        transport = fhir_corpus.RecordingTransport(httpx.ASGITransport(app=app))
        async with httpx.AsyncClient(
            transport=transport,
            base_url=base_url,
            event_hooks={"request": [fresh_reports(app)]},
        ) as client:
            yield client


@asynccontextmanager
async def running_referral_api(
    database_url: str,
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The real referral-api on `database_url` (test settings), running, and a client of it."""
    app = create_referral_app(ReferralSettings(database_url=database_url, environment="test"))
    async with running(app, "http://referral.test") as client:
        yield app, client


def unrefreshed_client(app: FastAPI, base_url: str) -> httpx.AsyncClient:
    """A client of an app already running that leaves the report facts as they stand."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url)


def production_referral_settings(**settings: object) -> ReferralSettings:
    """referral-api settings for production, with keys as a secret store would hold them."""
    values: dict[str, object] = {
        "database_url": "sqlite+aiosqlite://",
        "environment": "production",
        "pseudonym_key": "a-production-pseudonym-key-from-the-secret-store",
        "disclosure_key": "a-production-disclosure-key-from-the-secret-store",
        **settings,
    }
    return ReferralSettings(**values)  # type: ignore[arg-type]
