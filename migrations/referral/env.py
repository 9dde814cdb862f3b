"""Alembic environment of referral-api's database (`alembic --name referral ...`)."""

from referral_api.config import ReferralSettings
from referral_api.models import Base
from signpost_platform.migrations import run_migrations

run_migrations(Base.metadata, lambda: ReferralSettings().database_url)
