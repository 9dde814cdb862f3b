"""Alembic environment of directory-api's database (`alembic --name directory ...`)."""

from directory_api.config import DirectorySettings
from directory_api.db import Base, load_models
from signpost_platform.migrations import run_migrations

load_models()
run_migrations(Base.metadata, lambda: DirectorySettings().database_url)
