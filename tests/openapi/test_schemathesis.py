"""Property-based tests of the three services against their own OpenAPI documents.

schemathesis generates requests from each document (its examples first, then valid and invalid
data) and sends them to the service in-process (`tests.openapi.apps.APPS`), on a SQLite database
built by the migrations, with a development token granting every scope the document names.
Every answer must be a non-5xx response whose status, media type and body the document declares.

Bounded for CI: a fixed number of examples per operation, derandomised so a run is repeatable.
"""

from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.openapi.apps import APPS
from tests.openapi.spec_rules import every_scope

EXAMPLES_PER_OPERATION = 12
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# The examples phase (every documented example) and the fuzzing phase; the coverage phase's
# boundary values run to hundreds of cases per FHIR body, too many for the CI budget.
CONFIG = SchemathesisConfig.from_dict({"phases": {"coverage": {"enabled": False}}})


def _schema(service: str) -> Any:
    app = APPS[service]
    schema = schemathesis.openapi.from_dict(app.openapi(), config=CONFIG)
    schema.app = app
    return schema


def _every_scope(case: Any) -> dict[str, str]:
    """A development token granting every scope the service's document names."""
    return every_scope(case.operation.schema.raw_schema)


@pytest.fixture(scope="module", autouse=True)
def migrated(migrated_apps: dict[str, FastAPI]) -> None:
    """The apps' databases exist before the first request starts an app."""


bounded = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)

referral = _schema("referral")
directory = _schema("directory")
screening = _schema("screening")


@referral.parametrize()
@bounded
def test_referral_api_answers_as_documented(case: Any) -> None:
    case.call_and_validate(headers=_every_scope(case), checks=CHECKS)


@directory.parametrize()
@bounded
def test_directory_api_answers_as_documented(case: Any) -> None:
    case.call_and_validate(headers=_every_scope(case), checks=CHECKS)


@screening.parametrize()
@bounded
def test_screening_api_answers_as_documented(case: Any) -> None:
    case.call_and_validate(headers=_every_scope(case), checks=CHECKS)
