"""deploy/entrypoint.sh, run exactly as the image runs it: `<service> migrate`, then `<service>
serve` (uvicorn, two workers, uvloop, httptools), for all three services at once.

Nothing is built (no Docker here): the script runs from the repository, which has the image's
/app layout (alembic.ini, migrations/, deploy/entrypoint.sh), with this virtualenv's bin first on
PATH as /opt/signpost/bin is in the image. Each service gets a temporary SQLite database and
development auth, since no JWKS is reachable here.
"""

import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from signpost_platform.migrations import head_revisions
from tests.deploy.artefacts import ENTRYPOINT, REPO, SERVICES, ServiceSpec
from tests.support.processes import answers_ping, captured, free_port

pytestmark = pytest.mark.sqlite_only

STARTUP_LIMIT_SECONDS = 60  # a bound on waiting, not a performance expectation
OUR_VARIABLES = (
    "REFERRAL_",
    "DIRECTORY_",
    "SCREENING_",
    "SIGNPOST_PORT",
    "SIGNPOST_HOST",
    "WEB_CONCURRENCY",
    "PROMETHEUS_MULTIPROC_DIR",
)


@dataclass
class Running:
    service: ServiceSpec
    url: str
    database: Path
    metrics_dir: Path
    environment: dict[str, str]
    process: subprocess.Popen[bytes]
    log: Path


def _environment(service: ServiceSpec, folder: Path, port: int) -> dict[str, str]:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(OUR_VARIABLES)}
    return {
        **inherited,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{inherited.get('PATH', '')}",
        "PYTHONDONTWRITEBYTECODE": "1",
        f"{service.prefix}DATABASE_URL": f"sqlite+aiosqlite:///{folder / service.name}.db",
        f"{service.prefix}ENVIRONMENT": "development",
        f"{service.prefix}AUTH_MODE": "development",
        "SIGNPOST_HOST": "127.0.0.1",
        "SIGNPOST_PORT": str(port),
        "PROMETHEUS_MULTIPROC_DIR": str(folder / f"prometheus-{service.name}"),
    }


def _entrypoint(
    *arguments: str, environment: dict[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    return captured([ENTRYPOINT, *arguments], env=environment, cwd=cwd, timeout=120)


def _wait_until_answering(running: Running) -> None:
    up = answers_ping(
        running.url,
        running.process,
        within=STARTUP_LIMIT_SECONDS,
        interval=0.1,
        request_timeout=2,
    )
    if not up:
        pytest.fail(f"{running.service.name} did not start:\n{running.log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Running]]:
    """The three services migrated and served by the entry point, from a foreign working folder."""
    folder = tmp_path_factory.mktemp("entrypoint")
    ports = {service.name: free_port() for service in SERVICES}
    environments = {s.name: _environment(s, folder, ports[s.name]) for s in SERVICES}
    environments["screening"]["SCREENING_REFERRAL_API_URL"] = (
        f"http://127.0.0.1:{ports['referral']}"
    )

    migrations = {
        name: subprocess.Popen(  # noqa: S603
            [str(ENTRYPOINT), name, "migrate"],
            env=environment,
            cwd=folder,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for name, environment in environments.items()
    }
    for name, process in migrations.items():
        output, _ = process.communicate(timeout=120)
        assert process.returncode == 0, f"{name} migrate failed:\n{output.decode()}"

    stack: dict[str, Running] = {}
    try:
        for service in SERVICES:
            metrics_dir = folder / f"prometheus-{service.name}"
            metrics_dir.mkdir()
            (metrics_dir / "counter_99999.db").write_bytes(b"left by an earlier process")
            log = folder / f"{service.name}.log"
            with log.open("wb") as sink:
                process = subprocess.Popen(  # noqa: S603
                    [str(ENTRYPOINT), service.name, "serve"],
                    env=environments[service.name],
                    cwd=folder,
                    stdout=sink,
                    stderr=subprocess.STDOUT,
                )
            stack[service.name] = Running(
                service,
                f"http://127.0.0.1:{ports[service.name]}",
                folder / f"{service.name}.db",
                metrics_dir,
                environments[service.name],
                process,
                log,
            )
        for running in stack.values():
            _wait_until_answering(running)
        yield stack
    finally:
        for running in stack.values():
            running.process.send_signal(signal.SIGTERM)
        exit_codes = {}
        for name, running in stack.items():
            try:
                exit_codes[name] = running.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                running.process.kill()
                exit_codes[name] = "did not stop on SIGTERM"
    assert exit_codes == {s.name: 0 for s in SERVICES}, "services must stop cleanly on SIGTERM"


def _heads(service: ServiceSpec) -> list[str]:
    return sorted(head_revisions(REPO / "alembic.ini", service.name))


def _recorded_revisions(database: Path) -> list[str]:
    with sqlite3.connect(database) as connection:
        return sorted(
            row[0] for row in connection.execute("SELECT version_num FROM alembic_version")
        )


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_migrate_brings_the_database_to_the_migration_head(
    stack: dict[str, Running], service: ServiceSpec
) -> None:
    assert _recorded_revisions(stack[service.name].database) == _heads(service)


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_migrating_again_changes_nothing(stack: dict[str, Running], service: ServiceSpec) -> None:
    running = stack[service.name]
    result = _entrypoint(
        service.name, "migrate", environment=running.environment, cwd=running.database.parent
    )
    assert result.returncode == 0, result.stderr
    assert _recorded_revisions(running.database) == _heads(service)


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_served_service_answers_ping(stack: dict[str, Running], service: ServiceSpec) -> None:
    response = httpx.get(f"{stack[service.name].url}/_ping", timeout=5)
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "service": service.name}


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_served_service_is_ready_with_its_database_at_head(
    stack: dict[str, Running], service: ServiceSpec
) -> None:
    response = httpx.get(f"{stack[service.name].url}/_status", timeout=5)
    assert response.status_code == 200
    body = response.json()
    assert (body["service"], body["status"], body["database"]) == (service.name, "ok", "ok")
    assert body["migrations"] == {
        "current": _heads(service),
        "head": _heads(service),
        "schema": "current",
    }


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_serve_execs_uvicorn_with_the_production_server_options(
    stack: dict[str, Running], service: ServiceSpec
) -> None:
    running = stack[service.name]
    # exec: the process the container runtime signals is uvicorn itself, not a shell.
    command = Path(f"/proc/{running.process.pid}/cmdline").read_bytes().split(b"\0")
    arguments = [part.decode() for part in command if part]
    assert "uvicorn" in Path(arguments[1] if "python" in arguments[0] else arguments[0]).name
    expected = [
        "--factory",
        f"{service.name}_api.main:create_app",
        "--workers",
        "2",
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--no-access-log",
        "--proxy-headers",
    ]
    assert all(option in arguments for option in expected)
    assert arguments[arguments.index("--workers") + 1] == "2"
    assert arguments[arguments.index("--factory") + 1] == f"{service.name}_api.main:create_app"


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_serve_clears_metric_files_left_by_earlier_processes(
    stack: dict[str, Running], service: ServiceSpec
) -> None:
    assert not (stack[service.name].metrics_dir / "counter_99999.db").exists()


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_ping_command_reports_a_healthy_service(
    stack: dict[str, Running], service: ServiceSpec
) -> None:
    running = stack[service.name]
    assert (
        _entrypoint(service.name, "ping", environment=running.environment, cwd=REPO).returncode == 0
    )


def test_ping_command_fails_when_nothing_answers(stack: dict[str, Running]) -> None:
    environment = {**stack["referral"].environment, "SIGNPOST_PORT": str(free_port())}
    assert _entrypoint("referral", "ping", environment=environment, cwd=REPO).returncode != 0


@pytest.mark.parametrize(
    "arguments",
    [("billing", "serve"), ("referral", "drop"), ("referral",), (), ("directory", "expire-held")],
    ids=["unknown service", "unknown action", "no action", "nothing", "expiry of another service"],
)
def test_unknown_service_or_action_is_refused_with_usage(arguments: tuple[str, ...]) -> None:
    result = _entrypoint(*arguments, environment=dict(os.environ), cwd=REPO)
    assert result.returncode == 2
    assert "usage:" in result.stderr
