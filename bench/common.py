"""Benchmark harness: throwaway PostgreSQL databases, services under uvicorn, load from wrk.

Everything runs on loopback on this machine. Each benchmark prints its figures as a table and
returns them as a dict so `bench.run` can collect a summary. No benchmark asserts anything about
time: figures are reported, targets are compared in the printed output only.
"""

import argparse
import asyncio
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tests.support.processes import answers_ping, free_port

from signpost_platform import devdb
from signpost_platform.auth import mint_development_token

POSTGRES_ADMIN_URL = os.environ.get("SIGNPOST_BENCH_POSTGRES_URL", devdb.DEFAULT_POSTGRES_ADMIN_URL)
WORKERS = int(os.environ.get("SIGNPOST_BENCH_WORKERS", "2"))
DURATION = int(os.environ.get("SIGNPOST_BENCH_SECONDS", "10"))
LUA = Path(__file__).with_name("wrk_request.lua")


def ensure_wrk() -> str:
    """The wrk binary (Debian package `wrk`); installed with apt-get when missing and root."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0:
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=False, capture_output=True)
        if not shutil.which("wrk"):
            subprocess.run(["apt-get", "update", "-q"], check=True, capture_output=True)
            subprocess.run(
                ["apt-get", "install", "-y", "-q", "wrk"], check=True, capture_output=True
            )
        found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is needed for the benchmarks: apt-get install wrk")
    return found


def migrated_postgres(service: str) -> str:
    """A new PostgreSQL database for `service`, migrated to head."""
    return asyncio.run(
        devdb.migrated_database(
            "postgresql",
            service,
            folder=Path(tempfile.gettempdir()),
            postgres_admin_url=POSTGRES_ADMIN_URL,
        )
    )


def drop(url: str) -> None:
    asyncio.run(devdb.drop_database(url, postgres_admin_url=POSTGRES_ADMIN_URL))


def token(*scopes: str) -> str:
    """A development token; a service's scopes come with every organisation's records."""
    granted = list(scopes)
    for service in ("referral", "screening"):
        if any(scope.startswith(f"{service}:") for scope in scopes):
            granted.append(f"{service}:all-organisations")
    return mint_development_token(granted, lifetime_seconds=3600)


def fhir_headers(*scopes: str) -> dict[str, str]:
    """Headers of a request sending FHIR JSON with a development token of `scopes`."""
    return {"Authorization": f"Bearer {token(*scopes)}", "Content-Type": "application/fhir+json"}


def uvicorn_command(factory: str, port: int) -> list[str]:
    """uvicorn serving `factory` (module:function) on loopback, quietly: no access log, warnings
    only. Callers add what they tune (workers, event loop)."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        factory,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
    ]


def wait_until_up(url: str, factory: str, process: subprocess.Popen[bytes]) -> None:
    """Return once `url` answers `/_ping`; raise if the process exits or a minute passes."""
    if not answers_ping(url, process, within=60, interval=0.2, request_timeout=1):
        raise RuntimeError(f"{factory} did not start")


@contextmanager
def serve(
    factory: str, *, env: dict[str, str] | None = None, workers: int = WORKERS
) -> Iterator[str]:
    """Run `factory` (module:function) under uvicorn with production-like settings; yield its URL.

    uvloop + httptools, `workers` processes, no access log, warnings-only logging.
    """
    port = free_port()
    tuning = ["--workers", str(workers), "--loop", "uvloop", "--http", "httptools"]
    command = [*uvicorn_command(factory, port), *tuning]
    # Benchmarks drive one client far past any per-client quota: measure the service, not the limit.
    unlimited = {f"{p}_RATE_LIMIT_PER_MINUTE": "0" for p in ("REFERRAL", "DIRECTORY", "SCREENING")}
    process = subprocess.Popen(command, env={**os.environ, **unlimited, **(env or {})})
    url = f"http://127.0.0.1:{port}"
    _SERVED[url] = process.pid
    try:
        wait_until_up(url, factory, process)
        yield url
    finally:
        _SERVED.pop(url, None)
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


# The uvicorn process behind each URL `serve` is serving.
_SERVED: dict[str, int] = {}
MEMORY_TARGET_MB = 250


def child_pids(pid: int) -> list[int]:
    """The processes `pid` started that are running now (from /proc)."""
    return [
        int(child)
        for task in Path(f"/proc/{pid}/task").glob("*/children")
        for child in task.read_text().split()
    ]


def _workers(pid: int) -> list[int]:
    """The worker processes of a uvicorn supervisor (not multiprocessing's resource tracker)."""
    return [
        child
        for child in child_pids(pid)
        if b"resource_tracker" not in Path(f"/proc/{child}/cmdline").read_bytes()
    ]


def service_pids(url: str) -> list[int]:
    """The processes serving `url` (started by `serve`): uvicorn's first and its workers."""
    return [_SERVED[url], *_workers(_SERVED[url])]


def _resident_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def resident_memory(url: str, label: str) -> dict[str, float]:
    """Print and return the resident memory (RSS, MB) of each process serving `url`.

    uvicorn with several workers is a supervisor process and one process per worker: each
    worker is a service process (the target is per process); the supervisor is printed too.
    """
    supervisor = _SERVED[url]
    workers = _workers(supervisor)
    figures = {"supervisor": _resident_mb(supervisor)}
    figures.update({f"worker {n}": _resident_mb(pid) for n, pid in enumerate(workers, 1)})
    largest = max(figures.values())
    listed = ", ".join(f"{name} {mb:.0f} MB" for name, mb in figures.items())
    verdict = "MET" if largest <= MEMORY_TARGET_MB else "MISSED"
    print(
        f"{label}: resident memory after the load: {listed}"
        f" (largest {largest:.0f} MB; target <= {MEMORY_TARGET_MB} MB per process) {verdict}"
    )
    return figures


@dataclass
class Load:
    """What wrk measured."""

    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float
    p95_ms: float
    p99_ms: float
    failures: int  # non-2xx/3xx responses and socket errors

    def row(self, name: str) -> str:
        return (
            f"{name:<44} {self.rps:>9.0f} req/s  p50 {self.p50_ms:6.1f} ms  "
            f"p95 {self.p95_ms:6.1f} ms  p99 {self.p99_ms:6.1f} ms  failures {self.failures}"
        )

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


# The synthetic NHS numbers each wrk thread may use (wrk_request.lua), more than a thread sends
# in a run; each wrk run of up to MOST_THREADS threads gets the next block (`_NHS_RUNS` counts).
NHS_PER_THREAD = 25_000
MOST_THREADS = 4
_NHS_RUNS = itertools.count()


def wrk(
    url: str,
    *,
    method: str = "GET",
    body: str | None = None,
    headers: dict[str, str] | None = None,
    unique_marker: str | None = None,
    nhs_number_marker: str | None = None,
    connections: int = 32,
    threads: int = 2,
    duration: int = DURATION,
    rate: int | None = None,
) -> Load:
    """Drive `url` with wrk and return what it measured.

    `unique_marker`, if given, is replaced in the body by a value unique to each request (for
    creates that must not collide on an identifier); `nhs_number_marker` by a valid synthetic
    NHS number unique to the request (a different person each time).
    """
    if threads > MOST_THREADS:
        raise ValueError(f"at most {MOST_THREADS} wrk threads: each run has its own NHS numbers")
    binary = ensure_wrk()
    env = {
        **os.environ,
        "WRK_METHOD": method,
        "WRK_BODY": body or "",
        "WRK_HEADERS": json.dumps(headers or {}),
        "WRK_MARKER": unique_marker or "",
        "WRK_NHS_MARKER": nhs_number_marker or "",
        # Each run's people apart from the earlier runs' (bench/wrk_request.lua).
        "WRK_NHS_OFFSET": str(next(_NHS_RUNS) * MOST_THREADS * NHS_PER_THREAD),
        "WRK_NHS_PER_THREAD": str(NHS_PER_THREAD),
    }
    command = [binary, f"-t{threads}", f"-c{connections}", f"-d{duration}s", "-s", str(LUA), url]
    return run_wrk(command, env)


def run_wrk(command: list[str], env: dict[str, str]) -> Load:
    """Run a wrk command whose Lua script prints a JSON summary line; return what it measured."""
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    line = next((x for x in result.stdout.splitlines() if x.startswith('{"requests"')), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary:\n{result.stdout}\n{result.stderr}")
    figures = json.loads(line)
    seconds = figures["duration_us"] / 1e6
    return Load(
        requests=figures["requests"],
        seconds=seconds,
        rps=figures["requests"] / seconds,
        p50_ms=figures["p50"] / 1000,
        p90_ms=figures["p90"] / 1000,
        p95_ms=figures["p95"] / 1000,
        p99_ms=figures["p99"] / 1000,
        failures=figures["failures"],
    )


def warmed_wrk(url: str, *, duration: int = DURATION, **options: Any) -> Load:
    """`wrk` after a two-second warm-up run of the same load, whose figures are dropped."""
    wrk(url, duration=2, **options)
    return wrk(url, duration=duration, **options)


def main_with_connections(
    description: str, run: Callable[[int], object], argv: list[str] | None
) -> int:
    """The command line of a benchmark whose one option is how many connections wrk opens."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args(argv)
    run(args.connections)
    return 0


def bare_rps(connections: int = 32) -> Load:
    """A bare FastAPI endpoint under the same server settings: the yardstick for ratios."""
    with serve("bench.bare:create_app") as url:
        return warmed_wrk(f"{url}/ping", connections=connections)
