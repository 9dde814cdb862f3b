"""Alembic environment of screening-api's database (`alembic --name screening ...`)."""

from screening_api.config import ScreeningSettings
from screening_api.models import Base
from signpost_platform.migrations import run_migrations

run_migrations(Base.metadata, lambda: ScreeningSettings().database_url)
