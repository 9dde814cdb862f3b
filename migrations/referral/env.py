"""Alembic environment of referral-api's database (`alembic --name referral ...`)."""

import referral_api.models  # noqa: F401  (registers every feature's tables)
from referral_api.config import ReferralSettings
from referral_api.db import Base
from signpost_platform.migrations import run_migrations

run_migrations(Base.metadata, lambda: ReferralSettings().database_url)
