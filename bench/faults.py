"""Fault benchmarks on PostgreSQL (long-running; not part of `make test`).

`replay-shuffled`: 10,000 lifecycle messages (whole EMIS and Rio journeys for ~1,400 people) are
sent in order to one referral-api; the same messages, shuffled and each sent twice, are spread
over two replicas of referral-api on one other database. The final states (every referral with
its Tasks, contacts and assessments, as served, server ids removed) must be identical.

`postgres-restart`: referral-api (2 workers) takes a steady stream of creates while the
PostgreSQL server is restarted. Reports how many requests failed during the outage, how long
until the service answered again (without being restarted itself), and checks that every
referral acknowledged with 201 can be read back afterwards (lost acknowledged writes must be 0).

`screens-referral-killed`: 1,000 positive screens (the person wants help) are submitted to
screening-api; referral-api is killed (SIGKILL) after 300 and restarted when all are in. Every
screen must become exactly one referral.

`jwks-slow`, `jwks-down` (bench/faults_jwks.py): referral-api in JWT mode while its JWKS
endpoint answers in 40 s or refuses connections. `person-writes` (bench/faults_writes.py):
bursts of 50 concurrent writes for one person. `directory-import-killed`
(bench/faults_import.py): a bulk import whose database connections are terminated, resumed to
completion.

`postgres-restart` restarts the machine's PostgreSQL cluster: do not run it while other work
uses the server. The others touch only the throwaway databases they create.
"""

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from tests.screening.builders import barts_answers, screening_response
from tests.support.messages import final_state, journey, journeys

from bench.common import (
    drop,
    fhir_headers,
    free_port,
    migrated_postgres,
    serve,
    token,
    uvicorn_command,
    wait_until_up,
)
from bench.faults_import import directory_import_killed
from bench.faults_jwks import jwks_down, jwks_slow
from bench.faults_writes import person_writes
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
    failures: list[tuple[float, str]] = []  # (when, status or exception name)
    successes: list[float] = []
    restart: dict[str, float] = {}
    started = time.monotonic()
    counter = 0

    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=10) as client:

        async def worker() -> None:
            nonlocal counter
            while time.monotonic() - started < seconds:
                counter += 1
                body = referral_body(f"FAULT-{counter}-{time.monotonic_ns()}")
                try:
                    response = await client.post("/fhir/ServiceRequest", json=body)
                except httpx.HTTPError as error:
                    failures.append((time.monotonic(), type(error).__name__))
                    await asyncio.sleep(0.05)
                    continue
                if response.status_code == 201:
                    acknowledged.append(response.json()["id"])
                    successes.append(time.monotonic())
                else:
                    failures.append((time.monotonic(), str(response.status_code)))
                    await asyncio.sleep(0.05)

        async def restarter() -> None:
            await asyncio.sleep(restart_after)
            restart["began"] = time.monotonic()
            await asyncio.to_thread(restart_postgres)
            restart["ended"] = time.monotonic()

        await asyncio.gather(restarter(), *(worker() for _ in range(concurrency)))

        missing = 0
        for referral_id in acknowledged:
            response = await client.get(f"/fhir/ServiceRequest/{referral_id}")
            missing += response.status_code != 200

    last_failure = max((when for when, _ in failures), default=restart["ended"])
    recovered = min((when for when in successes if when > last_failure), default=float("nan"))
    kinds: dict[str, int] = {}
    for _, kind in failures:
        kinds[kind] = kinds.get(kind, 0) + 1
    return {
        "acknowledged": len(acknowledged),
        "failed_requests": len(failures),
        "failures_by_status": kinds,
        "restart_command_s": round(restart["ended"] - restart["began"], 2),
        "first_failure_after_restart_began_s": round(
            min((w for w, _ in failures), default=float("nan")) - restart["began"], 2
        ),
        # From the first failed request to the first success after the last failure.
        "outage_s": round(recovered - min((w for w, _ in failures), default=recovered), 2),
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
    headers = fhir_headers("referral:write", "referral:read")
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
    headers = fhir_headers("referral:write", "referral:read")
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


class _Process:
    """A service under uvicorn on a fixed port, that can be killed and started again."""

    def __init__(self, factory: str, env: dict[str, str]) -> None:
        self.factory, self.env, self.port = factory, env, free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            uvicorn_command(self.factory, self.port),
            env={
                **os.environ,
                "SCREENING_RATE_LIMIT_PER_MINUTE": "0",
                "REFERRAL_RATE_LIMIT_PER_MINUTE": "0",
                **self.env,
            },
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until_up(self.url, self.factory, self.process)

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=20)
        self.process = None


def screens_referral_killed(screens: int = 1000, kill_after: int = 300) -> dict[str, object]:
    """Positive screens (wanting help) arrive while referral-api is killed, then restarted."""
    referral_db, screening_db = migrated_postgres("referral"), migrated_postgres("screening")
    referral = _Process(
        "referral_api.main:create_app",
        {"REFERRAL_DATABASE_URL": referral_db, "REFERRAL_LOG_LEVEL": "ERROR"},
    )
    screening = _Process(
        "screening_api.main:create_app",
        {
            "SCREENING_DATABASE_URL": screening_db,
            "SCREENING_LOG_LEVEL": "ERROR",
            "SCREENING_REFERRAL_API_URL": referral.url,
            "SCREENING_REFERRAL_API_TIMEOUT_SECONDS": "2",
            "SCREENING_HANDOFF_POLL_SECONDS": "0.2",
            "SCREENING_HANDOFF_BACKOFF_BASE_SECONDS": "0.2",
            "SCREENING_HANDOFF_BACKOFF_MAX_SECONDS": "2",
        },
    )
    body = json.dumps(screening_response(barts_answers(item_1="yes") | {"7": "yes"}))
    try:
        referral.start()
        screening.start()
        started = time.monotonic()
        rejected = asyncio.run(_submit_screens(screening.url, body, screens, kill_after, referral))
        submitted_seconds = time.monotonic() - started
        referral.start()  # same port: the outbox finds it again
        restarted = time.monotonic()
        total = _wait_for_referrals(referral.url, screens, deadline_seconds=300)
        drained_seconds = time.monotonic() - restarted
        distinct = _distinct_screening_identifiers(referral.url)
    finally:
        for process in (screening, referral):
            if process.process is not None:
                process.kill()
        drop(referral_db)
        drop(screening_db)
    result = {
        "screens_submitted": screens,
        "submissions_refused": rejected,
        "referral_api_killed_after": kill_after,
        "submit_seconds": round(submitted_seconds, 1),
        "referrals": total,
        "distinct_referral_identifiers": distinct,
        "drained_after_restart_seconds": round(drained_seconds, 1),
        "exactly_once": total == screens == distinct,
    }
    print("Positive screens while referral-api was killed and restarted:")
    print(json.dumps(result, indent=2))
    return result


async def _submit_screens(
    url: str, body: str, count: int, kill_after: int, referral: _Process
) -> int:
    headers = fhir_headers("screening:write")
    refused = 0
    sent = 0
    semaphore = asyncio.Semaphore(16)
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as client:

        async def one() -> None:
            nonlocal refused, sent
            async with semaphore:
                response = await client.post("/fhir/QuestionnaireResponse", content=body)
                refused += response.status_code != 201
                sent += 1
                if sent == kill_after:
                    await asyncio.to_thread(referral.kill)

        await asyncio.gather(*(one() for _ in range(count)))
    return refused


def _wait_for_referrals(url: str, expected: int, deadline_seconds: float) -> int:
    headers = {"Authorization": f"Bearer {token('referral:read')}"}
    deadline = time.monotonic() + deadline_seconds
    total = 0
    while time.monotonic() < deadline:
        response = httpx.get(f"{url}/fhir/ServiceRequest", params={"_count": 1}, headers=headers)
        total = response.json()["total"]
        if total >= expected:
            break
        time.sleep(1)
    return int(total)


def _distinct_screening_identifiers(url: str) -> int:
    headers = {"Authorization": f"Bearer {token('referral:read')}"}
    seen: set[str] = set()
    offset = 0
    while True:
        page = httpx.get(
            f"{url}/fhir/ServiceRequest",
            headers=headers,
            params={"_count": 100, "_offset": offset, "_total": "none"},
            timeout=30,
        ).json()
        entries = page.get("entry", [])
        for entry in entries:
            seen.update(f"{i['system']}|{i['value']}" for i in entry["resource"]["identifier"])
        if len(entries) < 100:
            return len(seen)
        offset += 100


SCENARIOS = {
    "directory-import-killed": directory_import_killed,
    "jwks-down": jwks_down,
    "jwks-slow": jwks_slow,
    "person-writes": person_writes,
    "postgres-restart": postgres_restart,
    "replay-shuffled": replay_shuffled,
    "screens-referral-killed": screens_referral_killed,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scenario", action="append", choices=sorted(SCENARIOS))
    args, _ = parser.parse_known_args(argv)
    for name in args.scenario or sorted(SCENARIOS):
        result = SCENARIOS[name]()
        if (
            result.get("lost_acknowledged_writes")
            or result.get("identical") is False
            or result.get("data_lost")
            or result.get("records_lost")
            or result.get("final_state", "completed") != "completed"
        ):
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
