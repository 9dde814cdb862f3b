"""While a service serves, what startup built is frozen out of the garbage collector's sight and
young collections run less often; both are undone when the service stops."""

import gc

from referral_api.config import ReferralSettings
from referral_api.main import create_app
from signpost_platform.collector import SERVING_GENERATION0_THRESHOLD
from tests.support.clients import running


async def test_serving_freezes_startup_objects_and_stopping_undoes_it():
    thresholds = gc.get_threshold()
    frozen = gc.get_freeze_count()
    # No database is needed: the app starts without one (its readiness check says so).
    app = create_app(
        ReferralSettings(
            database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none", environment="test"
        )
    )
    async with running(app, "http://referral.test") as client:
        assert (await client.get("/_ping")).status_code == 200
        serving_thresholds = gc.get_threshold()
        serving_frozen = gc.get_freeze_count()

    assert serving_thresholds == (SERVING_GENERATION0_THRESHOLD, *thresholds[1:])
    # The app's routes, validators and models are among the frozen objects.
    assert serving_frozen > frozen + 10_000
    assert gc.get_threshold() == thresholds
    assert gc.get_freeze_count() == 0
