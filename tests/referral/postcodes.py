"""The synthetic postcode lookup, for the features whose tests send a message's Patient.

Tables are emptied before each test (tests/referral/conftest.py). A feature folder whose tests
need the lookup imports `sample_postcodes` into its conftest.py, which puts the lookup back
before each of its tests.
"""

import pytest
from fastapi import FastAPI

from referral_api.geography.load import replace_postcodes, sample_rows


@pytest.fixture(autouse=True)
async def sample_postcodes(referral_app: FastAPI) -> None:
    """Put the synthetic postcode lookup back into the emptied tables."""
    async with referral_app.state.database.sessionmaker() as session, session.begin():
        await replace_postcodes(session, sample_rows(), "sample", is_sample=True)
