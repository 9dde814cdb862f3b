"""Fault benchmarks on PostgreSQL (long-running; not part of `make test`).

`postgres-restart`: referral-api (2 workers) takes a steady stream of creates while the
PostgreSQL server is restarted. Reports how many requests failed during the outage, how long
until the service answered again (without being restarted itself), and checks that every
referral acknowledged with 201 can be read back afterwards (lost acknowledged writes must be 0).

This restarts the machine's PostgreSQL cluster: do not run it while other work uses the server.
"""

import argparse
import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

import httpx

from bench.common import drop, migrated_postgres, serve, token
from bench.referral import referral_body


def restart_postgres() -> None:
    version = sorted(Path("/etc/postgresql").iterdir(), key=lambda p: p.name)[-1].name
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart", "-m", "fast"],
        check=True, capture_output=True,
    )


async def drive(url: str, seconds: float, restart_after: float, concurrency: int) -> dict[str, object]:
    headers = {"Authorization": f"Bearer {token('referral:write', 'referral:read')}"}
    acknowledged: list[str] = []
    failures: list[float] = []
    restarted_at: float | None = None
    first_success_after_restart: float | None = None
    started = time.monotonic()
    counter = 0

    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=10) as client:
        async def worker() -> None:
            nonlocal counter, first_success_after_restart
            while time.monotonic() - started < seconds:
                counter += 1
                body = referral_body(f"FAULT-{counter}-{time.monotonic_ns()}")
                try:
                    response = await client.post("/fhir/ServiceRequest", json=body)
                except httpx.HTTPError:
                    failures.append(time.monotonic())
                    await asyncio.sleep(0.05)
                    continue
                if response.status_code == 201:
                    acknowledged.append(response.json()["id"])
                    if restarted_at and first_success_after_restart is None:
                        first_success_after_restart = time.monotonic()
                else:
                    failures.append(time.monotonic())
                    await asyncio.sleep(0.05)

        async def restarter() -> None:
            nonlocal restarted_at
            await asyncio.sleep(restart_after)
            restarted_at = time.monotonic()
            await asyncio.to_thread(restart_postgres)

        await asyncio.gather(restarter(), *(worker() for _ in range(concurrency)))

        missing = 0
        for referral_id in acknowledged:
            response = await client.get(f"/fhir/ServiceRequest/{referral_id}")
            missing += response.status_code != 200

    assert restarted_at is not None
    return {
        "acknowledged": len(acknowledged),
        "failed_requests": len(failures),
        "recovered_after_s": round((first_success_after_restart or float("nan")) - restarted_at, 2),
        "lost_acknowledged_writes": missing,
    }


def postgres_restart(seconds: float = 12, restart_after: float = 4, concurrency: int = 8) -> dict[str, object]:
    database = migrated_postgres("referral")
    try:
        env = {"REFERRAL_DATABASE_URL": database, "REFERRAL_LOG_LEVEL": "ERROR"}
        with serve("referral_api.main:create_app", env=env) as url:
            result = asyncio.run(drive(url, seconds, restart_after, concurrency))
    finally:
        time.sleep(1)
        drop(database)
    print("PostgreSQL restarted under load (referral-api not restarted):")
    print(json.dumps(result, indent=2))
    return result


SCENARIOS = {"postgres-restart": postgres_restart}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scenario", action="append", choices=sorted(SCENARIOS))
    args, _ = parser.parse_known_args(argv)
    for name in args.scenario or sorted(SCENARIOS):
        result = SCENARIOS[name]()
        if result.get("lost_acknowledged_writes"):
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
