"""Fixtures shared by every test: the database backend (SQLite and PostgreSQL) and a tmp folder."""

import os
from pathlib import Path

import pytest

# Services under test share one token per scope set across many fast requests: the per-client
# rate limit is tested on its own (tests/platform/test_security.py) and off everywhere else.
for _prefix in ("REFERRAL", "DIRECTORY", "SCREENING"):
    os.environ.setdefault(f"{_prefix}_RATE_LIMIT_PER_MINUTE", "0")

from tests.support.databases import BACKENDS


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The database backend under test; tests that use a database run once per backend."""
    return str(request.param)


@pytest.fixture(scope="session")
def session_tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("signpost")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Honour `postgres_only` / `sqlite_only` for tests parametrised by the `backend` fixture."""
    for item in items:
        backend = getattr(item, "callspec", None) and item.callspec.params.get("backend")
        if backend == "sqlite" and item.get_closest_marker("postgres_only"):
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL (row locks)"))
        if backend == "postgresql" and item.get_closest_marker("sqlite_only"):
            item.add_marker(pytest.mark.skip(reason="runs once, on SQLite"))
