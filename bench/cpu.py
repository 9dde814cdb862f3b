"""Where a referral create's CPU goes under load: referral-api's process and PostgreSQL's.

referral-api runs as bench-peer runs it (one uvicorn worker, a pool of 10 with no overflow) on
a new database, and wrk creates referrals through it (the `referral` benchmark's body, a new
identifier and a new person each, 16 connections, one thread). A warm-up run loads the
database, then VACUUM ANALYZE, then the measured run: the CPU time (user and system, from
/proc) of the service's processes and of the PostgreSQL server is read before and after it,
and divided by the referrals it created. Each round measures with the report refresh worker on
(the default) and off: the difference is what the worker costs each created referral, on the
service and on PostgreSQL.

The server is the one the database is on, found from a backend's parent process (so it must
run on this machine): its processes alive at each reading, and the postmaster's own CPU and
that of the processes it has reaped (a backend or autovacuum worker that ended). It is the
server as a whole: nothing else should use it meanwhile.
"""

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from bench.common import (
    DURATION,
    Load,
    child_pids,
    drop,
    fhir_headers,
    migrated_postgres,
    serve,
    service_pids,
    wrk,
)
from bench.generate_referrals import asyncpg_dsn
from bench.referral import MARKER, NHS_MARKER, referral_body

TICKS = os.sysconf("SC_CLK_TCK")
CONNECTIONS = 16


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (None if it has gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None


def _cpu_seconds(pid: int) -> float:
    """User and system CPU of process `pid` so far (0 if it has gone)."""
    fields = _stat(pid)
    return 0.0 if fields is None else (int(fields[11]) + int(fields[12])) / TICKS


def _server_cpu_seconds(postmaster: int) -> float:
    """The CPU of a PostgreSQL server so far: its processes alive now, and the postmaster's own
    and that of the processes it has reaped (a backend or autovacuum worker that ended)."""
    fields = _stat(postmaster)
    if fields is None:
        raise RuntimeError("the PostgreSQL server stopped")
    own_and_reaped = sum(int(f) for f in fields[11:15]) / TICKS  # utime stime cutime cstime
    return own_and_reaped + sum(_cpu_seconds(child) for child in child_pids(postmaster))


def _postmaster(url: str) -> int:
    """The process id of the PostgreSQL server `url` is on (a backend's parent)."""

    async def parent_of_backend() -> list[str] | None:
        connection = await asyncpg.connect(asyncpg_dsn(url))
        try:  # read while the backend is there: it ends with the connection
            return _stat(int(await connection.fetchval("SELECT pg_backend_pid()")))
        finally:
            await connection.close()

    fields = asyncio.run(parent_of_backend())
    if fields is None:
        raise RuntimeError("PostgreSQL is not on this machine: its CPU cannot be read")
    return int(fields[1])  # the parent process id


@dataclass(frozen=True)
class Measured:
    worker: bool
    load: Load
    service_ms: float  # CPU per created referral
    postgres_ms: float
    service_busy: float  # share of one core

    def row(self) -> str:
        return (
            f"{'on' if self.worker else 'off':<15}{self.load.rps:>10.0f}{self.service_ms:>14.2f}"
            f"{self.postgres_ms:>17.2f}{self.service_busy:>14.0%}{self.load.failures:>10}"
        )


def _analyse(url: str) -> None:
    async def run() -> None:
        connection = await asyncpg.connect(asyncpg_dsn(url))
        try:
            await connection.execute("VACUUM ANALYZE")
        finally:
            await connection.close()

    asyncio.run(run())


def measure(worker: bool, seconds: int) -> Measured:
    database = migrated_postgres("referral")
    env = {
        "REFERRAL_DATABASE_URL": database,
        "REFERRAL_LOG_LEVEL": "WARNING",
        "REFERRAL_DB_POOL_SIZE": "10",
        "REFERRAL_DB_MAX_OVERFLOW": "0",
        "REFERRAL_REPORT_REFRESH_WORKER_ENABLED": str(worker).lower(),
    }
    options = {
        "method": "POST",
        "body": json.dumps(referral_body(MARKER, nhs_number=NHS_MARKER)),
        "headers": fhir_headers("referral:write", "referral:read"),
        "unique_marker": MARKER,
        "nhs_number_marker": NHS_MARKER,
        "connections": CONNECTIONS,
        "threads": 1,
    }
    try:
        postmaster = _postmaster(database)
        with serve("referral_api.main:create_app", env=env, workers=1) as url:
            endpoint = f"{url}/fhir/ServiceRequest"
            wrk(endpoint, duration=3, **options)  # warm-up: caches, plans, a loaded database
            _analyse(database)
            service = service_pids(url)
            began = time.perf_counter()
            before = sum(map(_cpu_seconds, service)), _server_cpu_seconds(postmaster)
            load = wrk(endpoint, duration=seconds, **options)
            after = sum(map(_cpu_seconds, service)), _server_cpu_seconds(postmaster)
            elapsed = time.perf_counter() - began
    finally:
        drop(database)
    created = load.requests - load.failures
    return Measured(
        worker,
        load,
        (after[0] - before[0]) * 1000 / created,
        (after[1] - before[1]) * 1000 / created,
        (after[0] - before[0]) / elapsed,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2, help="rounds of worker on, then off")
    parser.add_argument("--seconds", type=int, default=DURATION, help="length of each measured run")
    args, _ = parser.parse_known_args(argv)
    print(
        f"referral-api creating referrals (1 uvicorn worker, pool 10, wrk -t1 -c{CONNECTIONS}, "
        f"{args.seconds} s each): CPU per created referral"
    )
    print(
        f"{'refresh worker':<15}{'creates/s':>10}{'service ms':>14}{'PostgreSQL ms':>17}"
        f"{'service busy':>14}{'failures':>10}"
    )
    results: list[Measured] = []
    for _ in range(args.rounds):
        for worker in (True, False):
            results.append(measure(worker, args.seconds))
            print(results[-1].row(), flush=True)

    def median(worker: bool, figure: str) -> float:
        return statistics.median(
            m.load.rps if figure == "rps" else getattr(m, figure)
            for m in results
            if m.worker is worker
        )

    service = median(True, "service_ms") - median(False, "service_ms")
    postgres = median(True, "postgres_ms") - median(False, "postgres_ms")
    print(
        f"the refresh worker costs each created referral {service:.2f} ms of the service's CPU "
        f"and {postgres:.2f} ms of PostgreSQL's (medians; the triggers that queue changes run "
        f"either way); creates/s "
        f"{median(True, 'rps'):.0f} with the worker, {median(False, 'rps'):.0f} without"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
