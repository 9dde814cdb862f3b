"""The variables the manifests and compose files set are settings the services really read, the
values build valid settings, and every Secret they reference is documented in docs/deploy.md."""

import os
import re
from typing import Any

import pytest

from tests.deploy.artefacts import (
    COMPOSE_FILES,
    PROCESS_VARIABLE_PREFIXES,
    PROCESS_VARIABLES,
    RUNBOOK,
    SERVICES,
    Manifest,
    ServiceSpec,
    container_environment,
    load_compose,
    merged_compose_environment,
    one,
    pod_template,
    secret_references,
    service_for,
    workloads,
)

# Stand-ins for the values Kubernetes takes from Secrets (by key) and compose from the shell.
SECRET_STAND_INS = {
    "url": "postgresql+asyncpg://app:secret@db.example.org:5432/signpost",
    "key": "stand-in-" + "k" * 55,
}
COMPOSE_VARIABLES = {
    "SIGNPOST_JWKS_FILE": "/home/engineer/signpost/var/jwks.json",
    "SIGNPOST_JWT_ISSUER": "https://auth.example.org",
    "SIGNPOST_SCREENING_TOKEN": "stand-in-token",
    "SIGNPOST_PSEUDONYM_KEY": "stand-in-" + "p" * 55,
    "SIGNPOST_DISCLOSURE_KEY": "stand-in-" + "d" * 55,
    "SIGNPOST_SCREENING_DISCLOSURE_KEY": "stand-in-" + "s" * 55,
}
COMPOSE_VARIABLE = re.compile(r"\$\{(\w+)(?::?[-?][^}]*)?\}")


def _unknown_variables(service: ServiceSpec, names: set[str]) -> list[str]:
    """Names that no part of the service reads: not a field of its settings class (with its
    prefix), not another service's setting by mistake, not a documented process variable."""
    fields = set(service.settings_class.model_fields)
    unknown = []
    for name in sorted(names):
        if name.startswith(service.prefix):
            if name.removeprefix(service.prefix).lower() not in fields:
                unknown.append(name)
        elif name not in PROCESS_VARIABLES and not name.startswith(PROCESS_VARIABLE_PREFIXES):
            unknown.append(name)
    return unknown


def _kubernetes_containers() -> list[Any]:
    return [
        pytest.param(workload.label, service_for(workload.name), container, id=workload.label)
        for workload in workloads()
        for container in pod_template(workload)["spec"]["containers"]
    ]


def _compose_services() -> list[Any]:
    found = []
    for path in COMPOSE_FILES:
        for name, definition in load_compose(path)["services"].items():
            if name == "postgres":
                continue
            label = f"{path.name}:{name}"
            found.append(
                pytest.param(label, service_for(name), set(definition["environment"]), id=label)
            )
    return found


@pytest.mark.parametrize(("label", "service", "container"), _kubernetes_containers())
def test_kubernetes_sets_only_variables_the_service_reads(
    label: str, service: ServiceSpec, container: dict[str, Any]
) -> None:
    names = set(container_environment(container))
    assert f"{service.prefix}DATABASE_URL" in names, label
    assert _unknown_variables(service, names) == [], label


@pytest.mark.parametrize(("label", "service", "names"), _compose_services())
def test_compose_sets_only_variables_the_service_reads(
    label: str, service: ServiceSpec, names: set[str]
) -> None:
    assert _unknown_variables(service, names) == [], label


def test_unknown_variables_are_reported() -> None:
    referral = service_for("referral")
    typo = {"REFERRAL_DATABSE_URL", "SCREENING_REFERRAL_API_URL", "WEB_CONCURRENCY", "OTEL_X"}
    assert _unknown_variables(referral, typo) == [
        "REFERRAL_DATABSE_URL",
        "SCREENING_REFERRAL_API_URL",
    ]


def _environment_for(service: ServiceSpec, values: dict[str, Any]) -> dict[str, str]:
    return {
        name: SECRET_STAND_INS.get(value["secretKeyRef"]["key"], "stand-in")
        if isinstance(value, dict)
        else str(value)
        for name, value in values.items()
        if name.startswith(service.prefix)
    }


def _settings_from(
    monkeypatch: pytest.MonkeyPatch, service: ServiceSpec, environment: dict[str, str]
) -> Any:
    for name in [n for n in os.environ if n.startswith(service.prefix)]:
        monkeypatch.delenv(name)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return service.settings_class()


@pytest.mark.parametrize("workload", workloads(), ids=lambda w: w.label)
def test_kubernetes_configuration_builds_production_settings(
    monkeypatch: pytest.MonkeyPatch, workload: Manifest
) -> None:
    """Services and migration Jobs alike: settings that fail validation stop the process."""
    service = service_for(workload.name)
    container = pod_template(workload)["spec"]["containers"][0]
    settings = _settings_from(
        monkeypatch, service, _environment_for(service, container_environment(container))
    )
    assert settings.environment == "production"
    assert settings.auth_mode == "jwt"
    assert settings.jwks_url.startswith("https://")
    assert settings.jwt_audience == f"signpost-{service.app}"
    assert settings.database_url.startswith("postgresql+asyncpg://")
    assert settings.db_pool_pre_ping is True


def test_screening_api_reaches_referral_api_through_its_cluster_service(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    screening = service_for("screening")
    container = pod_template(one("Deployment", screening.app))["spec"]["containers"][0]
    settings = _settings_from(
        monkeypatch, screening, _environment_for(screening, container_environment(container))
    )
    referral_service = one("Service", "referral-api")
    assert settings.referral_api_url == "http://referral-api.signpost.svc.cluster.local"
    assert [port["port"] for port in referral_service.body["spec"]["ports"]] == [80]
    # OAuth2 client credentials, all three parts present.
    assert settings.referral_token_url.startswith("https://")
    assert settings.referral_client_id and settings.referral_client_secret


def test_migration_jobs_use_the_schema_owner_credentials_and_the_service_settings() -> None:
    for service in SERVICES:
        job = pod_template(one("Job", f"{service.name}-migrate"))["spec"]["containers"][0]
        deployment = pod_template(one("Deployment", service.app))["spec"]["containers"][0]
        assert job["envFrom"] == deployment["envFrom"]
        url = container_environment(job)[f"{service.prefix}DATABASE_URL"]["secretKeyRef"]
        assert url == {"name": f"signpost-{service.name}-db-migrate", "key": "url"}


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_compose_builds_development_settings_on_its_postgresql(
    monkeypatch: pytest.MonkeyPatch, service: ServiceSpec
) -> None:
    environment = load_compose(COMPOSE_FILES[0])["services"][service.app]["environment"]
    settings = _settings_from(monkeypatch, service, environment)
    assert (settings.environment, settings.auth_mode) == ("development", "development")
    assert settings.database_url.startswith(f"postgresql+asyncpg://{service.name}:")
    assert settings.database_url.endswith(f"@postgres:5432/{service.name}")


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_compose_with_the_jwt_file_builds_production_settings(
    monkeypatch: pytest.MonkeyPatch, service: ServiceSpec
) -> None:
    environment = {
        name: COMPOSE_VARIABLE.sub(lambda match: COMPOSE_VARIABLES[match[1]], value)
        for name, value in merged_compose_environment(service.app).items()
    }
    settings = _settings_from(monkeypatch, service, environment)
    assert (settings.environment, settings.auth_mode) == ("production", "jwt")
    assert settings.jwt_issuer == COMPOSE_VARIABLES["SIGNPOST_JWT_ISSUER"]
    assert str(settings.jwks_file) == "/run/signpost/jwks.json"
    jwt_service = load_compose(COMPOSE_FILES[1])["services"][service.app]
    assert any(volume.endswith(":/run/signpost/jwks.json:ro") for volume in jwt_service["volumes"])


def test_every_referenced_secret_and_key_is_documented_in_the_runbook() -> None:
    runbook = RUNBOOK.read_text()
    rows = [line for line in runbook.splitlines() if line.startswith("|")]
    ingress = one("Ingress", "signpost").body["spec"]["tls"][0]["secretName"]
    for name, key in sorted(secret_references()):
        assert any(f"`{name}`" in row and f"`{key}`" in row for row in rows), (name, key)
    assert f"`{ingress}`" in runbook
