"""Where a referral create's CPU goes under load: referral-api's process and PostgreSQL's.

referral-api runs as bench-peer runs it (one uvicorn worker, a pool of 10 with no overflow) on
a new database, and wrk creates referrals through it (the `referral` benchmark's body, a new
identifier and a new person each, 16 connections, one thread). A warm-up run loads the
database, then VACUUM ANALYZE, then the measured run: the CPU time (user and system, from
/proc) of the service's processes and of every PostgreSQL process is read before and after it,
and divided by the referrals it created. Each round measures with the report refresh worker on
(the default) and off: the difference is what keeping the report facts current costs each
created referral, on the service and on PostgreSQL.

PostgreSQL is the local server as a whole: nothing else should use it meanwhile, and a process
that starts and ends inside the run (an autovacuum worker) is not counted.
"""

import argparse
import asyncio
import json
import os
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from bench.common import Load, drop, fhir_headers, migrated_postgres, serve, service_pids, wrk
from bench.generate_referrals import asyncpg_dsn
from bench.referral import MARKER, NHS_MARKER, referral_body

TICKS = os.sysconf("SC_CLK_TCK")
CONNECTIONS = 16


def _cpu_seconds(pid: int) -> float:
    """User and system CPU of process `pid` so far (0 if it has gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def _postgres_pids() -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if stat.read_text().split(" (", 1)[1].startswith("postgres)"):
                found.append(int(stat.parent.name))
        except (OSError, IndexError):
            continue
    return found


def _cpu_of(pids: list[int]) -> dict[int, float]:
    return {pid: _cpu_seconds(pid) for pid in pids}


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
        with serve("referral_api.main:create_app", env=env, workers=1) as url:
            endpoint = f"{url}/fhir/ServiceRequest"
            wrk(endpoint, duration=3, **options)  # warm-up: caches, plans, a loaded database
            _analyse(database)
            service = service_pids(url)
            postgres = _postgres_pids()
            before = _cpu_of(service), _cpu_of(postgres)
            load = wrk(endpoint, duration=seconds, **options)
            after = _cpu_of(service), _cpu_of(postgres + _postgres_pids())
    finally:
        drop(database)
    service_s = sum(after[0].values()) - sum(before[0].values())
    postgres_s = sum(cpu - before[1].get(pid, 0.0) for pid, cpu in after[1].items())
    return Measured(
        worker,
        load,
        service_s * 1000 / load.requests,
        postgres_s * 1000 / load.requests,
        service_s / load.seconds,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2, help="rounds of worker on, then off")
    parser.add_argument("--seconds", type=int, default=15, help="length of each measured run")
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
        f"keeping the report facts current costs each created referral {service:.2f} ms of the "
        f"service's CPU and {postgres:.2f} ms of PostgreSQL's (medians); creates/s "
        f"{median(True, 'rps'):.0f} with the worker, {median(False, 'rps'):.0f} without"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
