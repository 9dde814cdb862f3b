"""The three services' OpenAPI documents, built once per session from their app factories."""

from typing import Any

import pytest

from signpost_platform.openapi import documents


@pytest.fixture(scope="session")
def service_documents() -> dict[str, dict[str, Any]]:
    return documents()
