"""The interactive documentation pages are a setting: on in development, off by default
elsewhere (they were served in production); /openapi.json is always published."""

import pytest

from referral_api.config import ReferralSettings
from referral_api.main import create_app
from tests.support.clients import production_referral_settings, running


@pytest.mark.parametrize(
    ("environment", "enabled", "served"),
    [
        ("development", None, True),
        ("test", None, False),
        ("test", True, True),
        ("development", False, False),
    ],
)
async def test_docs_pages_follow_the_setting(
    security_referral_database, environment, enabled, served
):
    settings = ReferralSettings(
        database_url=security_referral_database, environment=environment, docs_enabled=enabled
    )
    async with running(create_app(settings), "http://referral.test") as client:
        docs = await client.get("/docs")
        redoc = await client.get("/redoc")
        document = await client.get("/openapi.json")

    assert docs.status_code == (200 if served else 404)
    assert redoc.status_code == (200 if served else 404)
    assert document.status_code == 200
    assert document.json()["openapi"].startswith("3.")


def test_production_settings_leave_the_docs_pages_off():
    settings = production_referral_settings(
        auth_mode="jwt", jwks_url="https://auth.example.nhs.uk/jwks.json"
    )

    assert settings.docs_pages is False
