"""Alembic environment of referral-api's database (`alembic --name referral ...`)."""

from referral_api.config import ReferralSettings
from referral_api.db import Base
from referral_api.referrals import models  # noqa: F401  (registers the tables)
from signpost_platform.migrations import run_migrations

run_migrations(Base.metadata, lambda: ReferralSettings().database_url)
