"""/_status fails when the database is unreachable or not migrated to head."""

import asyncio

from sqlalchemy import text

from referral_api.config import ReferralSettings
from referral_api.main import create_app
from signpost_platform.migrations import upgrade
from signpost_platform.settings import find_repo_file
from tests.support.clients import running
from tests.support.databases import create_empty_database, drop_database


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
