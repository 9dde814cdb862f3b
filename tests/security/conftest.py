"""The three services on migrated databases, one set per backend, for the security tests.

Tests make records with fresh identifiers and assert on those, so they share the services
without emptying tables.
"""

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from directory_api.config import DirectorySettings
from directory_api.main import create_app as create_directory_app
from screening_api.config import ScreeningSettings
from screening_api.main import create_app as create_screening_app
from tests.support.clients import running, running_referral_api
from tests.support.databases import drop_database, migrated_database, migrated_database_fixture

Service = tuple[FastAPI, httpx.AsyncClient]


security_referral_database = migrated_database_fixture("referral", "security_referral_database")


@pytest.fixture(scope="session")
async def referral_service(security_referral_database: str) -> AsyncIterator[Service]:
    async with running_referral_api(security_referral_database) as service:
        yield service


@pytest.fixture(scope="session")
async def directory_service(backend: str, session_tmp: Path) -> AsyncIterator[Service]:
    url = await migrated_database(backend, session_tmp, "directory")
    app = create_directory_app(
        DirectorySettings(
            database_url=url, environment="test", seed_on_startup=True, seed_sample_services=False
        )
    )
    async with running(app, "http://directory.test") as client:
        yield app, client
    await drop_database(url)


@pytest.fixture(scope="session")
async def screening_service(
    backend: str, session_tmp: Path, referral_service: Service
) -> AsyncIterator[Service]:
    url = await migrated_database(backend, session_tmp, "screening")
    app = create_screening_app(
        ScreeningSettings(
            database_url=url,
            environment="test",
            referral_api_url="http://referral.test",
            handoff_worker_enabled=False,
        ),
        referral_transport=httpx.ASGITransport(app=referral_service[0]),
    )
    async with running(app, "http://screening.test") as client:
        yield app, client
    await drop_database(url)


@pytest.fixture
def referral(referral_service: Service) -> httpx.AsyncClient:
    return referral_service[1]


@pytest.fixture
def directory(directory_service: Service) -> httpx.AsyncClient:
    return directory_service[1]


@pytest.fixture
def screening(screening_service: Service) -> httpx.AsyncClient:
    return screening_service[1]
