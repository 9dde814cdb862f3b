"""The three services as the OpenAPI tests run them: no rate limit (the tests send far more than
a client may, and 429s would hide real answers), the directory seeded with its samples, the
screening hand-off worker off."""

from collections.abc import Callable
from functools import partial

from fastapi import FastAPI

from directory_api.config import DirectorySettings
from directory_api.main import create_app as create_directory_app
from referral_api.config import ReferralSettings
from referral_api.main import create_app as create_referral_app
from screening_api.config import ScreeningSettings
from screening_api.main import create_app as create_screening_app

UNLIMITED = {"environment": "test", "rate_limit_per_minute": 0}


def _directory(url: str, samples: bool = True) -> FastAPI:
    return create_directory_app(
        DirectorySettings(
            database_url=url, seed_on_startup=True, seed_sample_services=samples, **UNLIMITED
        )
    )


FACTORIES: dict[str, Callable[[str], FastAPI]] = {
    "referral": lambda url: create_referral_app(ReferralSettings(database_url=url, **UNLIMITED)),
    "directory": _directory,
    "screening": lambda url: create_screening_app(
        ScreeningSettings(
            database_url=url,
            handoff_worker_enabled=False,
            referral_api_url="http://referral.test",
            **UNLIMITED,
        )
    ),
}
# For tests that make their own records: the directory without its sample services.
WITHOUT_SAMPLES: dict[str, Callable[[str], FastAPI]] = {
    **FACTORIES,
    "directory": partial(_directory, samples=False),
}
