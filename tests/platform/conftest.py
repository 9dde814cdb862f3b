"""Platform behaviour is tested through a real service (referral-api)."""

from tests.referral.conftest import client, referral_app, referral_database, referral_service  # noqa: F401
