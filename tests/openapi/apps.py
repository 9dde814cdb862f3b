"""The three services as the schemathesis tests run them: no rate limit (the tests send far more
than a client may, and 429s would hide real answers), the directory seeded with its samples, the
screening hand-off worker off.

`APPS` are the running apps the stateless and stateful tests share, one per service, each on a
SQLite database file of its own that the `migrated_apps` fixture writes before the first request
starts the app's lifespan. They are built at import: the stateless tests are collected from their
documents.
"""

import tempfile
from collections.abc import Callable
from pathlib import Path

from fastapi import FastAPI

from directory_api.config import DirectorySettings
from directory_api.main import create_app as create_directory_app
from referral_api.config import ReferralSettings
from referral_api.main import create_app as create_referral_app
from screening_api.config import ScreeningSettings
from screening_api.main import create_app as create_screening_app

UNLIMITED = {"environment": "test", "rate_limit_per_minute": 0}

FACTORIES: dict[str, Callable[[str], FastAPI]] = {
    "referral": lambda url: create_referral_app(ReferralSettings(database_url=url, **UNLIMITED)),
    "directory": lambda url: create_directory_app(
        DirectorySettings(
            database_url=url, seed_on_startup=True, seed_sample_services=True, **UNLIMITED
        )
    ),
    "screening": lambda url: create_screening_app(
        ScreeningSettings(
            database_url=url,
            handoff_worker_enabled=False,
            referral_api_url="http://referral.test",
            **UNLIMITED,
        )
    ),
}

DATABASES = Path(tempfile.mkdtemp(prefix="signpost-schemathesis-"))
APPS = {
    service: factory(f"sqlite+aiosqlite:///{DATABASES / f'{service}.db'}")
    for service, factory in FACTORIES.items()
}
