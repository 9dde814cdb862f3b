"""The three services' OpenAPI documents, built once per session from their app factories, the
files `make openapi` writes from them, and the running apps the schemathesis tests share, on
SQLite databases at head."""

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from signpost_platform.migrations import upgrade
from signpost_platform.openapi import documents, published
from signpost_platform.settings import find_repo_file
from tests.openapi.apps import APPS, DATABASES
from tests.referral.conftest import (  # noqa: F401 (fixtures: the generated-client tests)
    referral_app,
    referral_database,
    referral_service,
)


@pytest.fixture(scope="session")
def service_documents() -> dict[str, dict[str, Any]]:
    return documents()


@pytest.fixture(scope="session")
def published_folder(
    service_documents: dict[str, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A folder holding what `make openapi` writes, built from the code under test."""
    folder = tmp_path_factory.mktemp("openapi")
    for file_name, text in published(service_documents).items():
        (folder / file_name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def migrated_apps() -> Iterator[dict[str, FastAPI]]:
    """`APPS`, their databases migrated to head (written before any app starts)."""
    for service in APPS:
        database = DATABASES / f"{service}.db"
        upgrade(find_repo_file("alembic.ini"), service, f"sqlite+aiosqlite:///{database}")
    yield APPS
    shutil.rmtree(DATABASES, ignore_errors=True)
