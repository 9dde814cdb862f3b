"""Fixtures shared by every test: the database backend (SQLite and PostgreSQL) and a tmp folder."""

from pathlib import Path

import pytest

from tests.support.databases import BACKENDS


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The database backend under test; tests that use a database run once per backend."""
    return str(request.param)


@pytest.fixture(scope="session")
def session_tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("signpost")
