"""In-process service apps and HTTP clients: the real app, its lifespan and a real database."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from signpost_platform.auth import mint_development_token
from tests.support import fhir_corpus


def bearer(*scopes: str, ods: str | None = None) -> dict[str, str]:
    """An Authorization header with a development token granting `scopes`."""
    return {"Authorization": f"Bearer {mint_development_token(list(scopes), ods=ods)}"}


@asynccontextmanager
async def running(app: FastAPI, base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """Run `app`'s lifespan and yield a client that talks to it in-process. Every FHIR resource
    it receives is kept for the R4 validation at the end of the run (`fhir_corpus`)."""
    async with app.router.lifespan_context(app):
        transport = fhir_corpus.RecordingTransport(httpx.ASGITransport(app=app))
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            yield client
