"""Fault benchmarks on PostgreSQL (long-running; not part of `make test`).

`replay-shuffled`: 10,000 lifecycle messages (whole EMIS and Rio journeys for ~1,400 people) are
sent in order to one referral-api; the same messages, shuffled and each sent twice, are spread
over two replicas of referral-api on one other database. The final states (every referral with
its Tasks, contacts and assessments, as served, server ids removed) must be identical.

`postgres-restart`: referral-api (2 workers) takes a steady stream of creates while the
PostgreSQL server is restarted. Reports how many requests failed during the outage, how long
until the service answered again (without being restarted itself), and checks that every
referral acknowledged with 201 can be read back afterwards (lost acknowledged writes must be 0).

This restarts the machine's PostgreSQL cluster: do not run it while other work uses the server.
"""

import argparse
import asyncio
import json
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from tests.support.messages import final_state, journey, journeys

from bench.common import drop, migrated_postgres, serve, token
from bench.referral import referral_body


def restart_postgres() -> None:
    version = sorted(Path("/etc/postgresql").iterdir(), key=lambda p: p.name)[-1].name
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart", "-m", "fast"],
        check=True,
        capture_output=True,
    )


async def drive(
    url: str, seconds: float, restart_after: float, concurrency: int
) -> dict[str, object]:
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


def postgres_restart(
    seconds: float = 12, restart_after: float = 4, concurrency: int = 8
) -> dict[str, object]:
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


async def _send_all(urls: list[str], messages: list[dict[str, Any]], concurrency: int) -> int:
    headers = {
        "Authorization": f"Bearer {token('referral:write', 'referral:read')}",
        "Content-Type": "application/fhir+json",
    }
    queue: asyncio.Queue[tuple[int, dict[str, Any]]] = asyncio.Queue()
    for item in enumerate(messages):
        queue.put_nowait(item)
    refused = 0
    clients = [httpx.AsyncClient(base_url=u, headers=headers, timeout=60) for u in urls]

    async def worker() -> None:
        nonlocal refused
        while not queue.empty():
            index, bundle = queue.get_nowait()
            response = await clients[index % len(clients)].post(
                "/fhir/$process-message", content=json.dumps(bundle)
            )
            refused += response.status_code not in (200, 202)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    for client in clients:
        await client.aclose()
    return refused


async def _send_in_order(url: str, journeys: list[list[dict[str, Any]]], concurrency: int) -> int:
    """Each journey's messages in order; journeys side by side."""
    headers = {
        "Authorization": f"Bearer {token('referral:write', 'referral:read')}",
        "Content-Type": "application/fhir+json",
    }
    refused = 0
    semaphore = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as client:

        async def one(messages: list[dict[str, Any]]) -> None:
            nonlocal refused
            async with semaphore:
                for bundle in messages:
                    response = await client.post(
                        "/fhir/$process-message", content=json.dumps(bundle)
                    )
                    refused += response.status_code not in (200, 202)

        await asyncio.gather(*(one(j) for j in journeys))
    return refused


async def _final_state(url: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token('referral:read')}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as client:
        return await final_state(client)


def replay_shuffled(messages_wanted: int = 10_000, concurrency: int = 16) -> dict[str, object]:
    per_journey = (len(journey("emis")) + len(journey("rio"))) / 2
    journeys_sent = journeys(round(messages_wanted / per_journey))
    messages = [m for j in journeys_sent for m in j]
    in_order_db, shuffled_db = migrated_postgres("referral"), migrated_postgres("referral")
    try:
        env = {"REFERRAL_LOG_LEVEL": "ERROR"}
        with serve(
            "referral_api.main:create_app", env={**env, "REFERRAL_DATABASE_URL": in_order_db}
        ) as url:
            started = time.monotonic()
            refused_in_order = asyncio.run(_send_in_order(url, journeys_sent, concurrency))
            in_order_seconds = time.monotonic() - started
            expected = asyncio.run(_final_state(url))
        shuffled = messages * 2
        random.Random(20261122).shuffle(shuffled)
        shuffled_env = {**env, "REFERRAL_DATABASE_URL": shuffled_db}
        with (
            serve("referral_api.main:create_app", env=shuffled_env) as first,
            serve("referral_api.main:create_app", env=shuffled_env) as second,
        ):
            started = time.monotonic()
            refused_shuffled = asyncio.run(_send_all([first, second], shuffled, concurrency))
            shuffled_seconds = time.monotonic() - started
            actual = asyncio.run(_final_state(first))
    finally:
        drop(in_order_db)
        drop(shuffled_db)
    differing = sorted(
        k for k in expected.keys() | actual.keys() if expected.get(k) != actual.get(k)
    )
    result = {
        "messages": len(messages),
        "referrals": len(journeys_sent),
        "in_order_seconds": round(in_order_seconds, 1),
        "shuffled_twice_messages": len(shuffled),
        "shuffled_twice_seconds": round(shuffled_seconds, 1),
        "refused": refused_in_order + refused_shuffled,
        "referrals_differing": len(differing),
        "identical": not differing and len(expected) == len(journeys_sent),
    }
    print("Lifecycle messages in order vs shuffled and sent twice across two replicas:")
    print(json.dumps(result, indent=2))
    return result


SCENARIOS = {"postgres-restart": postgres_restart, "replay-shuffled": replay_shuffled}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scenario", action="append", choices=sorted(SCENARIOS))
    args, _ = parser.parse_known_args(argv)
    for name in args.scenario or sorted(SCENARIOS):
        result = SCENARIOS[name]()
        if result.get("lost_acknowledged_writes") or result.get("identical") is False:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
