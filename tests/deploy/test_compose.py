"""deploy/compose*.yaml: valid against the Compose Specification schema, and wired as intended
(a database per service, migrations before services, health checks, local-only ports)."""

import json
import re
from pathlib import Path

import jsonschema
import pytest

from tests.deploy.artefacts import (
    COMPOSE_FILES,
    COMPOSE_SCHEMA,
    DEPLOY,
    REPO,
    SERVICES,
    ServiceSpec,
    load_compose,
)

COMPOSE = COMPOSE_FILES[0]


def _validator() -> jsonschema.protocols.Validator:
    schema = json.loads(COMPOSE_SCHEMA.read_text())
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema, format_checker=validator_class.FORMAT_CHECKER)


@pytest.mark.parametrize("path", COMPOSE_FILES, ids=lambda p: p.name)
def test_compose_file_is_valid_against_the_compose_specification(path: Path) -> None:
    errors = [f"{e.json_path}: {e.message}" for e in _validator().iter_errors(load_compose(path))]
    assert errors == []


def test_the_schema_refuses_a_broken_compose_file() -> None:
    broken = load_compose(COMPOSE)
    broken["services"]["referral-api"]["depends_on"]["referral-migrate"]["condition"] = "done"
    broken["services"]["referral-api"]["helthcheck"] = {}
    assert len(list(_validator().iter_errors(broken))) >= 1


def test_the_image_is_built_from_the_repository_with_deploy_dockerfile() -> None:
    for name, definition in load_compose(COMPOSE)["services"].items():
        if name == "postgres":
            continue
        build = definition["build"]
        assert (DEPLOY / build["context"]).resolve() == REPO, name
        assert (REPO / build["dockerfile"]).is_file()
        assert definition["image"] == "signpost:local"


def test_postgresql_15_creates_one_database_and_role_per_service() -> None:
    postgres = load_compose(COMPOSE)["services"]["postgres"]
    assert postgres["image"] == "postgres:15"
    source, target = postgres["volumes"][0].split(":")[:2]
    assert target.startswith("/docker-entrypoint-initdb.d/")
    script = (DEPLOY / source).read_text()
    for service in SERVICES:
        assert re.search(rf"CREATE ROLE {service.name} LOGIN PASSWORD '[^']+';", script)
        assert f"CREATE DATABASE {service.name} OWNER {service.name};" in script
    assert "pg_isready" in postgres["healthcheck"]["test"]


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_migration_runs_once_postgresql_is_healthy_and_the_service_waits_for_it(
    service: ServiceSpec,
) -> None:
    services = load_compose(COMPOSE)["services"]
    migrate = services[f"{service.name}-migrate"]
    api = services[service.app]
    assert migrate["command"] == [service.name, "migrate"]
    assert migrate["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert migrate["restart"] == "no"
    assert migrate["environment"] == api["environment"]
    assert api["command"] == [service.name, "serve"]
    assert api["depends_on"][f"{service.name}-migrate"] == {
        "condition": "service_completed_successfully"
    }


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_service_is_health_checked_on_ping_and_published_on_loopback_only(
    service: ServiceSpec,
) -> None:
    api = load_compose(COMPOSE)["services"][service.app]
    assert api["healthcheck"]["test"] == ["CMD", "/app/deploy/entrypoint.sh", service.name, "ping"]
    assert api["ports"] == [f"127.0.0.1:{service.port}:{service.port}"]
    assert api["read_only"] is True
    assert api["cap_drop"] == ["ALL"]


def test_screening_api_calls_referral_api_by_its_compose_name() -> None:
    screening = load_compose(COMPOSE)["services"]["screening-api"]
    assert screening["environment"]["SCREENING_REFERRAL_API_URL"] == "http://referral-api:8001"
