"""Lifecycle tests: the referral-api of tests/referral with the sample postcode lookup loaded."""

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from referral_api.geography.load import replace_postcodes, sample_rows
from tests.referral.conftest import READ, WRITE

__all__ = ["READ", "WRITE", "send"]


@pytest.fixture(autouse=True)
async def sample_postcodes(referral_app: FastAPI) -> None:
    """Tables are emptied before each test; put the synthetic postcode lookup back."""
    async with referral_app.state.database.sessionmaker() as session, session.begin():
        await replace_postcodes(session, sample_rows(), "sample", is_sample=True)


async def send(client: httpx.AsyncClient, message: dict[str, Any]) -> httpx.Response:
    return await client.post("/fhir/$process-message", json=message, headers=WRITE)
