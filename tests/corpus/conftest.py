"""The apps a sender corpus runs through: screening-api with a real referral-api behind it.

One stack per database backend (the fixtures of tests/screening/conftest.py); `stack` empties
both databases before each test and puts the synthetic postcode lookup back, so every input
starts from nothing.
"""

from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI

from referral_api.geography.load import replace_postcodes, sample_rows
from tests.screening.conftest import (  # noqa: F401  (fixtures used by name)
    referral_backend,
    screening_database,
    screening_referral_database,
    screening_service,
)
from tests.support.databases import empty_tables


@dataclass(frozen=True, slots=True)
class Stack:
    referral_app: FastAPI
    referral: httpx.AsyncClient
    screening_app: FastAPI
    screening: httpx.AsyncClient

    def client(self, service: str) -> httpx.AsyncClient:
        return {"referral": self.referral, "screening": self.screening}[service]


@pytest.fixture
async def stack(
    screening_service: tuple[FastAPI, httpx.AsyncClient],  # noqa: F811
    referral_backend: tuple[FastAPI, httpx.AsyncClient],  # noqa: F811
) -> Stack:
    """referral-api and screening-api with empty tables (and the sample postcode lookup)."""
    stack = Stack(referral_backend[0], referral_backend[1], *screening_service)
    await emptied(stack)
    return stack


async def emptied(stack: Stack) -> None:
    """Delete every row of both services; put the synthetic postcode lookup back."""
    await empty_tables(stack.screening_app.state.database.engine)
    await empty_tables(stack.referral_app.state.database.engine)
    async with stack.referral_app.state.database.sessionmaker() as session, session.begin():
        await replace_postcodes(session, sample_rows(), "sample", is_sample=True)
