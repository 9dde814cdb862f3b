"""The three services' OpenAPI documents, built once per session from their app factories, and
the files `make openapi` writes from them."""

from pathlib import Path
from typing import Any

import pytest

from signpost_platform.openapi import documents, published
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
