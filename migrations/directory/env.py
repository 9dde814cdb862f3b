"""Alembic environment of directory-api's database (`alembic --name directory ...`)."""

from directory_api.config import DirectorySettings
from directory_api.models import Base
from signpost_platform.migrations import run_migrations

run_migrations(Base.metadata, lambda: DirectorySettings().database_url)
