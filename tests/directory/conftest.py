"""directory-api under test: real apps on migrated databases, one pair per backend.

`seeded_client` talks to a directory holding the reference taxonomies, the six roles and the
synthetic London sample; tests only read from it. `client` talks to a directory seeded with the
reference data only, shared by the writing tests: each test makes records with fresh ids and
asserts on those, so tests stay independent without emptying tables.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from directory_api.config import DirectorySettings
from directory_api.main import create_app
from tests.support.clients import bearer, running
from tests.support.databases import drop_database, migrated_database

WRITE = bearer("directory:write")


async def _service(url: str, *, samples: bool) -> FastAPI:
    return create_app(
        DirectorySettings(
            database_url=url,
            environment="test",
            seed_on_startup=True,
            seed_sample_services=samples,
        )
    )


@asynccontextmanager
async def _running_service(
    backend: str, session_tmp: Path, *, samples: bool
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """A directory on a fresh migrated database, served until the session ends, then dropped."""
    url = await migrated_database(backend, session_tmp, "directory")
    app = await _service(url, samples=samples)
    async with running(app, "http://directory.test") as client:
        yield app, client
    await drop_database(url)


@pytest.fixture(scope="session")
async def seeded_service(
    backend: str, session_tmp: Path
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    async with _running_service(backend, session_tmp, samples=True) as served:
        yield served


@pytest.fixture(scope="session")
async def writable_service(
    backend: str, session_tmp: Path
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    async with _running_service(backend, session_tmp, samples=False) as served:
        yield served


@pytest.fixture
def seeded_client(seeded_service: tuple[FastAPI, httpx.AsyncClient]) -> httpx.AsyncClient:
    return seeded_service[1]


@pytest.fixture
def seeded_app(seeded_service: tuple[FastAPI, httpx.AsyncClient]) -> FastAPI:
    return seeded_service[0]


@pytest.fixture
def client(writable_service: tuple[FastAPI, httpx.AsyncClient]) -> httpx.AsyncClient:
    return writable_service[1]


@pytest.fixture
def directory_app(writable_service: tuple[FastAPI, httpx.AsyncClient]) -> FastAPI:
    return writable_service[0]
