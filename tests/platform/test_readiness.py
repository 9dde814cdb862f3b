"""/_status fails when the database is unreachable or not migrated to head; requests meanwhile
get a 503 the client can retry, not a 500."""

import asyncio
import uuid

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from referral_api.config import ReferralSettings
from referral_api.main import create_app
from signpost_platform.migrations import upgrade
from signpost_platform.settings import find_repo_file
from tests.support.builders import service_request
from tests.support.clients import bearer, running
from tests.support.databases import (
    POSTGRES_ADMIN_URL,
    create_empty_database,
    drop_database,
)


async def test_status_is_503_when_migrations_are_behind(backend, session_tmp):
    url = await create_empty_database(backend, session_tmp, "behind")
    await asyncio.to_thread(upgrade, find_repo_file("alembic.ini"), "referral", url, "base")
    try:
        app = create_app(ReferralSettings(database_url=url, environment="test"))
        async with running(app, "http://referral.test") as client:
            response = await client.get("/_status")
        assert response.status_code == 503
        assert response.json()["status"] == "unavailable"
    finally:
        await drop_database(url)


async def test_status_says_behind_not_unreachable_when_the_database_was_never_migrated(
    backend, session_tmp
):
    """A new, empty database answers, but has no migration table: the deployer is told to
    migrate, not that the database cannot be reached."""
    url = await create_empty_database(backend, session_tmp, "never")
    try:
        app = create_app(ReferralSettings(database_url=url, environment="test"))
        async with running(app, "http://referral.test") as client:
            response = await client.get("/_status")
        assert response.status_code == 503
        body = response.json()
        assert body["status"] == "unavailable"
        assert body["database"] == "ok"
        assert body["migrations"]["current"] == []
        assert body["migrations"]["schema"] == "behind"
        assert "make migrate" in body["migrations"]["action"]
    finally:
        await drop_database(url)


async def test_status_does_not_ask_to_migrate_a_migrated_database_the_role_cannot_see(
    backend, session_tmp
):
    """A role whose search path misses the schema cannot read the migration table, but the
    database has one: not "never migrated" (the migration has run; the grants are wrong)."""
    if backend != "postgresql":
        pytest.skip("roles and search paths are PostgreSQL's")
    url = await create_empty_database(backend, session_tmp, "unseen")
    await asyncio.to_thread(upgrade, find_repo_file("alembic.ini"), "referral", url)
    role, database = f"signpost_test_{uuid.uuid4().hex[:12]}", make_url(url).database
    admin = create_async_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f"CREATE ROLE {role} LOGIN"))
            await connection.execute(
                text(f"ALTER ROLE {role} IN DATABASE {database} SET search_path = elsewhere")
            )
        seen_as_role = make_url(url).set(username=role, password=None)
        app = create_app(
            ReferralSettings(
                database_url=seen_as_role.render_as_string(hide_password=False),
                environment="test",
            )
        )
        async with running(app, "http://referral.test") as client:
            response = await client.get("/_status")
        assert response.status_code == 503
        assert "migrations" not in response.json()
    finally:
        await drop_database(url)
        async with admin.connect() as connection:
            await connection.execute(text(f"DROP ROLE IF EXISTS {role}"))
        await admin.dispose()


async def test_status_stays_ready_when_a_newer_release_has_migrated(backend, session_tmp):
    """During a rolling deploy the old pods see a revision they do not know: still ready."""
    url = await create_empty_database(backend, session_tmp, "ahead")
    await asyncio.to_thread(upgrade, find_repo_file("alembic.ini"), "referral", url)
    try:
        app = create_app(ReferralSettings(database_url=url, environment="test"))
        async with running(app, "http://referral.test") as client:
            async with app.state.database.engine.begin() as connection:
                await connection.execute(
                    text("UPDATE alembic_version SET version_num = 'f00dfeedbeef'")
                )
            response = await client.get("/_status")
        assert response.status_code == 200
        assert response.json()["migrations"]["schema"] == "ahead"
    finally:
        await drop_database(url)


async def test_status_is_503_when_the_database_is_unreachable():
    url = "postgresql+asyncpg://nobody@127.0.0.1:1/nothing"
    app = create_app(ReferralSettings(database_url=url, environment="test"))
    async with running(app, "http://referral.test") as client:
        response = await client.get("/_status")
        ping = await client.get("/_ping")

    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"
    assert ping.status_code == 200


async def test_requests_get_503_with_retry_after_while_the_database_is_unreachable():
    url = "postgresql+asyncpg://nobody@127.0.0.1:1/nothing"
    app = create_app(ReferralSettings(database_url=url, environment="test"))
    headers = bearer("referral:read", "referral:write", "referral:all-organisations")
    async with running(app, "http://referral.test") as client:
        create = await client.post("/fhir/ServiceRequest", json=service_request(), headers=headers)
        search = await client.get("/fhir/ServiceRequest", headers=headers)
        report = await client.get("/reports/referrals", headers=bearer("reports:read"))

    for response in (create, search):
        assert response.status_code == 503
        assert response.headers["retry-after"] == "2"
        assert response.json()["resourceType"] == "OperationOutcome"
        assert response.json()["issue"][0]["code"] == "transient"
    assert report.status_code == 503
    assert report.headers["content-type"].startswith("application/problem+json")
