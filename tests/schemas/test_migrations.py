"""Each service's Alembic history builds a schema identical to its models, up and down."""

import asyncio

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from signpost_platform.migrations import upgrade
from signpost_platform.settings import find_repo_file
from tests.support.databases import drop_database, migrated_database


def service_metadata(service):
    if service == "referral":
        from referral_api.db import Base
        from referral_api.referrals import models  # noqa: F401
    elif service == "directory":
        from directory_api.db import Base
    else:
        from screening_api.db import Base
    import importlib
    import pkgutil

    package = importlib.import_module(f"{service}_api")
    for module in pkgutil.walk_packages(package.__path__, f"{service}_api."):
        if module.name.endswith(".models"):
            importlib.import_module(module.name)
    return Base.metadata


@pytest.mark.parametrize("service", ["referral", "directory", "screening"])
async def test_migrations_match_the_models_and_downgrade_cleanly(backend, session_tmp, service):
    url = await migrated_database(backend, session_tmp, service)
    try:
        engine = create_async_engine(url)
        async with engine.connect() as connection:
            differences = await connection.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"compare_type": True}),
                    service_metadata(service),
                )
            )
        await engine.dispose()
        assert differences == []
        ini = find_repo_file("alembic.ini")
        await asyncio.to_thread(upgrade_down_up, ini, service, url)
    finally:
        await drop_database(url)


def upgrade_down_up(ini, service, url):
    from alembic import command

    from signpost_platform.migrations import alembic_config

    command.downgrade(alembic_config(ini, service, url), "base")
    upgrade(ini, service, url)
