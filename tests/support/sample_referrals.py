"""`make sample-referrals`: the synthetic report dataset (120 referrals, January to March 2026,
the one the reports' OpenAPI examples are computed from) loaded into the development
referral-api database, so the dashboard has something to show (docs/pages.md).

Its ids are fixed, so a second run finds them there and changes nothing.
"""

import asyncio
import os
import sys

from sqlalchemy.exc import IntegrityError

from referral_api.config import ReferralSettings
from referral_api.main import create_app
from signpost_platform.migrations import upgrade
from signpost_platform.settings import find_repo_file
from tests.support.report_examples import example_dataset

DEVELOPMENT_DATABASE = "sqlite+aiosqlite:///./var/referral.db"


async def _load(url: str) -> str:
    app = create_app(ReferralSettings(database_url=url))
    async with app.router.lifespan_context(app):
        try:
            await example_dataset().write(app)
        except IntegrityError:
            return "the sample referrals are already loaded"
    return "loaded 120 synthetic referrals (January to March 2026) into referral-api"


def main() -> int:
    url = os.environ.get("REFERRAL_DATABASE_URL", DEVELOPMENT_DATABASE)
    if os.environ.get("REFERRAL_ENVIRONMENT", "development").lower() == "production":
        print("not loaded: synthetic referrals never go into a production database")
        return 2
    os.makedirs("var", exist_ok=True)
    upgrade(find_repo_file("alembic.ini"), "referral", url)
    print(asyncio.run(_load(url)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
