"""The three services' OpenAPI documents, built once per session from their app factories, the
files `make openapi` writes from them, and SQLite databases at head for the tests that run the
apps (migrated once, copied per module)."""

import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from signpost_platform.migrations import upgrade
from signpost_platform.openapi import documents, published
from signpost_platform.settings import find_repo_file
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
def sqlite_at_head(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, Path], None]:
    """Write a SQLite database of a service, migrated to head, to a path."""
    templates = tmp_path_factory.mktemp("migrated")

    def copy(service: str, target: Path) -> None:
        template = templates / f"{service}.db"
        if not template.exists():
            upgrade(find_repo_file("alembic.ini"), service, f"sqlite+aiosqlite:///{template}")
        with closing(sqlite3.connect(template)) as source, closing(sqlite3.connect(target)) as to:
            source.backup(to)

    return copy
