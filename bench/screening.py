"""screening-api submissions on PostgreSQL, with referral-api running behind it.

Measures, with both services under uvicorn (production settings) on their own PostgreSQL
databases:
- saturation: completed positive screens that want help (the heaviest submission: validation,
  scoring, 7 Observations and an outbox row in one transaction) driven by wrk, submissions/s;
- a steady 100 submissions/s for the measurement period (open loop: requests are sent on
  schedule whether or not earlier ones have answered), p50/p95/p99 latency;
- that the outbox drains: every hand-off delivered to referral-api, and how long it took.
Target: p95 <= 50 ms at 100 submissions/s.
"""

import argparse
import asyncio
import json
import statistics
import sys
import time

import httpx
from tests.support.reports import synthetic_nhs_numbers

from bench.common import (
    DURATION,
    drop,
    fhir_headers,
    migrated_postgres,
    resident_memory,
    serve,
    warmed_wrk,
)
from signpost_schemas import systems

TARGET_RATE = 100
TARGET_P95_MS = 50.0
BARTS = "https://signpost.nhs.example/Questionnaire/barts-social-welfare-screening|2023.1"
CONTEXT = "https://signpost.nhs.example/StructureDefinition/screening-context"
YES = {"system": "http://loinc.org", "code": "LA33-6", "display": "Yes"}
NO = {"system": "http://loinc.org", "code": "LA32-8", "display": "No"}
# Replaced by wrk with a new valid NHS number per request: each submission a different person.
NHS_MARKER = "__NHS_NUMBER__"


def positive_screen(nhs_number: str = "9434765919") -> dict[str, object]:
    """A completed Barts response: money and food flagged, help wanted (a synthetic person)."""
    answers = {"1": YES, "2": YES, "3": YES, "4": YES, "5": NO, "6": NO, "7": YES}
    return {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": BARTS,
        "status": "completed",
        "subject": {"identifier": {"system": systems.NHS_NUMBER, "value": nhs_number}},
        "authored": "2026-11-02T09:30:00Z",
        "extension": [
            {
                "url": CONTEXT,
                "extension": [
                    {
                        "url": "clinic",
                        "valueIdentifier": {"system": systems.ODS_ORGANIZATION, "value": "R1H12"},
                    },
                    {"url": "pathway", "valueCode": "cardiology-outpatient"},
                ],
            }
        ],
        "item": [{"linkId": k, "answer": [{"valueCoding": v}]} for k, v in answers.items()],
    }


class _Connection:
    """A keep-alive HTTP/1.1 connection speaking just enough HTTP for one POST at a time.

    A hand-written client keeps the load generator's own CPU use small: it shares two cores with
    both services and PostgreSQL, and a general-purpose client would slow the services it measures.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def post(self, request: bytes) -> int:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        await self.reader.readexactly(length)
        return status


async def steady_rate(
    url: str, headers: dict[str, str], rate: int, seconds: int
) -> dict[str, float]:
    """Open-loop load: one submission every 1/rate s, each on a free keep-alive connection (a new
    one if all are busy), so a slow answer never delays the next request. Latency is measured
    from the scheduled send time."""
    host, port = url.removeprefix("http://").split(":")
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    people = synthetic_nhs_numbers()
    requests = []
    for _ in range(rate * seconds):  # each submission a different synthetic person
        body = json.dumps(positive_screen(next(people))).encode()
        requests.append(
            (
                f"POST /fhir/QuestionnaireResponse HTTP/1.1\r\nHost: {host}\r\n{head}"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode()
            + body
        )
    idle: list[_Connection] = []
    latencies: list[float] = []
    failures = 0

    async def one(scheduled: float, request: bytes) -> None:
        nonlocal failures
        connection = idle.pop() if idle else _Connection(*await asyncio.open_connection(host, port))
        try:
            status = await connection.post(request)
        except (OSError, asyncio.IncompleteReadError):
            failures += 1
            connection.writer.close()
            return
        latencies.append((time.perf_counter() - scheduled) * 1000)
        if status != 201:
            failures += 1
        idle.append(connection)

    tasks = []
    start = time.perf_counter()
    for index in range(rate * seconds):
        scheduled = start + index / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(scheduled, requests[index])))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    for connection in idle:
        connection.writer.close()
    ordered = sorted(latencies)

    def percentile(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else 0.0

    return {
        "sent": rate * seconds,
        "answered": len(latencies),
        "failures": failures,
        "achieved_rate": len(latencies) / elapsed,
        "p50_ms": statistics.median(ordered or [0]),
        "p95_ms": percentile(95),
        "p99_ms": percentile(99),
    }


def wait_for_drain(url: str, headers: dict[str, str], limit_seconds: float = 300) -> float:
    """Seconds until no hand-off is pending or failing (or the limit)."""
    started = time.monotonic()
    while time.monotonic() - started < limit_seconds:
        listing = httpx.get(f"{url}/referral-handoffs", headers=headers, timeout=10).json()
        if listing["total"] == 0:
            return time.monotonic() - started
        time.sleep(0.5)
    return float("inf")


def run(connections: int, rate: int, seconds: int) -> dict[str, object]:
    referral_db = migrated_postgres("referral")
    screening_db = migrated_postgres("screening")
    headers = fhir_headers("screening:write", "screening:read", "referral:read")
    try:
        referral_env = {"REFERRAL_DATABASE_URL": referral_db, "REFERRAL_LOG_LEVEL": "WARNING"}
        with serve("referral_api.main:create_app", env=referral_env, workers=1) as referral_url:
            screening_env = {
                "SCREENING_DATABASE_URL": screening_db,
                "SCREENING_REFERRAL_API_URL": referral_url,
                "SCREENING_LOG_LEVEL": "WARNING",
            }
            with serve("screening_api.main:create_app", env=screening_env) as url:
                endpoint = f"{url}/fhir/QuestionnaireResponse"
                body = json.dumps(positive_screen(NHS_MARKER))
                saturation = warmed_wrk(
                    endpoint,
                    method="POST",
                    body=body,
                    headers=headers,
                    connections=connections,
                    duration=seconds,
                    nhs_number_marker=NHS_MARKER,
                )
                print(saturation.row("submit (saturation, positive + help)"), flush=True)
                drained_after_saturation = wait_for_drain(url, headers)
                steady = asyncio.run(steady_rate(url, headers, rate, seconds))
                drained_after_steady = wait_for_drain(url, headers)
                referrals = httpx.get(
                    f"{referral_url}/fhir/ServiceRequest",
                    params={"_count": 1},
                    headers=headers,
                    timeout=30,
                ).json()["total"]
                resident_memory(url, "screening-api")
                resident_memory(referral_url, "referral-api (behind it)")
    finally:
        drop(screening_db)
        drop(referral_db)
    return {
        "saturation": saturation.as_dict(),
        "steady": steady,
        "outbox_drain_seconds": {
            "after_saturation": drained_after_saturation,
            "after_steady": drained_after_steady,
        },
        "referrals_in_referral_api": referrals,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rate", type=int, default=TARGET_RATE)
    parser.add_argument("--seconds", type=int, default=DURATION)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = parser.parse_args(argv)
    figures = run(args.connections, args.rate, args.seconds)
    steady = figures["steady"]
    assert isinstance(steady, dict)
    print(
        f"{'submit at ' + str(args.rate) + '/s (open loop)':<44} {steady['achieved_rate']:>9.0f} "
        f"req/s  p50 {steady['p50_ms']:6.1f} ms  p95 {steady['p95_ms']:6.1f} ms  "
        f"p99 {steady['p99_ms']:6.1f} ms  failures {steady['failures']}"
    )
    drain = figures["outbox_drain_seconds"]
    assert isinstance(drain, dict)
    print(
        f"outbox drained {drain['after_saturation']:.1f} s after saturation, "
        f"{drain['after_steady']:.1f} s after the steady run; "
        f"referrals in referral-api: {figures['referrals_in_referral_api']}"
    )
    verdict = "meets" if steady["p95_ms"] <= TARGET_P95_MS else "MISSES"
    print(f"target p95 <= {TARGET_P95_MS:.0f} ms at {args.rate}/s: {verdict}")
    if args.json:
        print(json.dumps(figures, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
