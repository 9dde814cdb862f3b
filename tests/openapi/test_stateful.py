"""Stateful property-based tests: schemathesis chains each service's operations along the links
its OpenAPI document declares (a referral created is read, read at its version and updated with
its ETag, then read again; a directory record is read in both views, replaced and retired; a
screening response is read and followed to its referral hand-off).

Scenarios start from the documented create examples, sent with fresh identifiers: random FHIR
bodies are refused long before a record exists, so a chain would never start. What follows is
generated: the headers and parameters of every step, and the bodies the links pass on. Every
answer must be below 500 and as the document declares it (status, media type, schema), and a
record a create just answered with must be found by the operations its links lead to.

Bounded for CI: a fixed number of scenarios of a fixed number of steps per service,
derandomised, on the running apps and SQLite databases the stateless tests use
(`tests.openapi.apps.APPS`); the scenarios make records of their own and pass whatever those
tests left.
"""

import copy
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ensure_resource_availability,
    response_schema_conformance,
    status_code_conformance,
)

from tests.openapi.apps import APPS
from tests.openapi.spec_rules import every_scope
from tests.support.documented import CreateRounds, fresh, operations

SCENARIOS = 10
STEPS = 6
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    ensure_resource_availability,
]
# Only the links the documents declare: inferring more would test schemathesis's guesses.
CONFIG = SchemathesisConfig.from_dict(
    {"phases": {"stateful": {"max-steps": STEPS, "inference": {"algorithms": []}}}}
)
BOUNDED = settings(
    max_examples=SCENARIOS,
    stateful_step_count=STEPS,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.generate],
)


@pytest.fixture(scope="module", autouse=True)
def migrated(migrated_apps: dict[str, FastAPI]) -> None:
    """The apps' databases exist before the first request starts an app."""


@pytest.mark.parametrize("service", sorted(APPS))
def test_linked_operations_answer_as_documented(service: str) -> None:
    app = APPS[service]
    document = app.openapi()
    schema = schemathesis.openapi.from_dict(_starting_from_examples(document), config=CONFIG)
    schema.app = app
    token = every_scope(document)
    _create_documented_records(schema, document, token)

    followed: list[tuple[str, int]] = []

    class Workflows(schema.as_state_machine()):  # type: ignore[misc]
        def step(self, input: Any) -> Any:
            output = super().step(input)
            if input.transition is not None and input.is_applied:
                followed.append((input.transition.id, output.response.status_code))
            return output

        def before_call(self, case: Any) -> None:
            if case.method == "POST" and isinstance(case.body, dict | list):
                case.body = fresh(case.body)

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": token}

        def validate_response(
            self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any
        ) -> None:
            case.validate_response(
                response, checks=CHECKS, transport_kwargs=kwargs or None, recorder=self.recorder
            )

    Workflows.run(settings=BOUNDED)

    # The scenarios reached records they created: some link led to a success.
    assert any(status < 300 for _link, status in followed), followed


def _starting_from_examples(document: dict[str, Any]) -> dict[str, Any]:
    """`document` with each request body that has an example narrowed to that example."""
    narrowed = copy.deepcopy(document)
    for _method, _path, operation in operations(narrowed):
        for media in operation.get("requestBody", {}).get("content", {}).values():
            if "example" in media:
                media["schema"] = {"enum": [media["example"]]}
    return narrowed


def _create_documented_records(
    schema: Any, document: dict[str, Any], token: dict[str, str]
) -> None:
    """Send every documented create as it is, so the records the examples name exist (the
    directory's service example names the organisation and location of the others)."""
    rounds = CreateRounds(document)
    for path, media_type, example in rounds:
        case = schema[path]["POST"].Case(body=example, media_type=media_type)
        if case.call(headers=token).status_code >= 300:
            rounds.again((path, media_type, example))
