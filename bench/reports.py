"""Report latency on PostgreSQL at 100,000 and 1,000,000 synthetic referrals.

1. A migrated PostgreSQL database is filled with `bench.generate_referrals` (COPY) and the
   report facts are built, first to the smallest size, then topped up to each larger one in the
   same database (`--sizes`, default 100000,1000000).
2. At each size referral-api runs under uvicorn (production-like settings, `bench.common.serve`)
   and every report is requested through HTTP with a mix of representative queries (no group-by,
   one and two group-bys, filters, a date range, a per-reason group-by), one request at a time,
   after one warm-up pass; p50 and p95 latency per report are printed, with the target
   (p95 <= 300 ms, issue 13) and how each grew from one size to the next.

    python -m bench.reports                        # about 15 minutes on 2 cores
    python -m bench.reports --sizes 20000 --rounds 3 --keep
    python -m bench.reports --database-url postgresql+asyncpg://... (reuse a generated one)

Nothing is asserted: figures are printed. Latency includes the service's own work per report
(auth, the freshness read of the change queue, rendering, disclosure control; the facts are
built before timing and a report request never refreshes them).
"""

import argparse
import asyncio
import itertools
import os
import statistics
import sys
import time
from typing import Any

import asyncpg
import httpx

from bench.common import drop, migrated_postgres, resident_memory, serve, token
from bench.generate_referrals import asyncpg_dsn, build_facts, generate
from referral_api.config import ReferralSettings
from referral_api.reports import facts
from signpost_platform.db import Database

TARGET_P95_MS = 300.0
# Referrals queued at random for the backlog refresh (`_backlog_refresh`): one refresh batch.
BACKLOG = 2_000
QUERIES: dict[str, list[dict[str, str]]] = {
    "referrals": [
        {},
        {"group_by": "month"},
        {"group_by": "pcn,role"},
        {"group_by": "practice", "from": "2025-11-01", "to": "2026-10-31"},
        {"group_by": "age-band,gender", "ethnicity": "black-or-black-british"},
        {"group_by": "imd-decile", "role": "care-navigator"},
        {"group_by": "reason-group"},
    ],
    "reasons": [{}, {"group_by": "role"}, {"level": "reason-group", "group_by": "month"}],
    "reason-pairs": [{}, {"level": "reason-group", "group_by": "role"}],
    "support": [{}, {"level": "support-group", "group_by": "pcn"}],
    "support-match": [{}, {"group_by": "role"}, {"group_by": "source", "role": "care-navigator"}],
    "waiting-times": [
        {},
        {"group_by": "role"},
        {"group_by": "pcn", "from": "2026-01-01", "to": "2026-06-30"},
        {"group_by": "reason-group"},
    ],
    "attendance": [{"group_by": "month"}, {"group_by": "role,source-system"}],
    "outcomes": [{"group_by": "role"}, {"group_by": "month,role"}, {"group_by": "support-group"}],
    "closure-reasons": [{}, {"group_by": "role"}],
    "rates": [{"group_by": "pcn"}, {"group_by": "practice", "age-band": "65-74,75-84"}],
    "wellbeing": [{}, {"group_by": "role"}],
    "service-use": [{}, {"group_by": "role"}, {"group_by": "role,reason-group"}],
    "re-referrals": [{"group_by": "role"}, {"group_by": "month"}],
    "completeness": [{}, {"group_by": "role"}, {"group_by": "source-system,role"}],
    "data-quality": [
        {},
        {"group_by": "sender"},
        {"view": "unmapped-codes", "group_by": "sender"},
    ],
    "workers": [{}, {"group_by": "role"}, {"role": "care-navigator", "from": "2026-01-01"}],
}


def _sizes(text: str) -> list[int]:
    return sorted(int(part.replace("_", "")) for part in text.split(",") if part)


async def _count(url: str) -> int:
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        return int(await connection.fetchval("SELECT count(*) FROM referral"))
    finally:
        await connection.close()


def _fill(url: str, size: int) -> dict[str, float]:
    """Top the database up to `size` referrals and rebuild the facts; returns the seconds."""
    have = asyncio.run(_count(url))
    timings = {"generate_s": 0.0, "facts_s": 0.0}
    if have >= size:
        return timings
    began = time.monotonic()
    asyncio.run(generate(url, have, size - have))
    timings["generate_s"] = time.monotonic() - began
    began = time.monotonic()
    asyncio.run(build_facts(url))
    timings["facts_s"] = time.monotonic() - began
    return timings


def _measure(url: str, rounds: int) -> dict[str, dict[str, Any]]:
    headers = {"Authorization": f"Bearer {token('reports:read')}"}
    results: dict[str, dict[str, Any]] = {}
    env = {"REFERRAL_DATABASE_URL": url, "REFERRAL_LOG_LEVEL": "WARNING"}
    with (
        serve("referral_api.main:create_app", env=env) as base,
        httpx.Client(base_url=base, headers=headers, timeout=120) as client,
    ):
        for name, queries in QUERIES.items():
            for params in queries:  # warm-up: plans, caches, the facts' pages
                client.get(f"/reports/{name}", params=params)
        for name, queries in QUERIES.items():
            latencies: list[float] = []
            failed = 0
            for _ in range(rounds):
                for params in queries:
                    began = time.perf_counter()
                    response = client.get(f"/reports/{name}", params=params)
                    latencies.append((time.perf_counter() - began) * 1000)
                    # A 503 is a statement past the service's timeout: counted, not fatal.
                    failed += response.status_code >= 400
            latencies.sort()
            results[name] = {
                "requests": len(latencies),
                "failed": failed,
                "p50_ms": statistics.median(latencies),
                "p95_ms": latencies[max(0, round(0.95 * len(latencies)) - 1)],
                "max_ms": latencies[-1],
            }
        resident_memory(base, "referral-api")
    return results


async def _backlog_refresh(url: str, referrals: int = BACKLOG) -> tuple[int, float]:
    """Queue `referrals` referrals picked at random (so spanning every month, as an import of
    past referrals or a worker that fell behind leaves them) and time the refresh that drains
    them: (referrals derived, their people's other referrals included; seconds)."""
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await connection.execute(
            "INSERT INTO report_change (referral_id) "
            "SELECT id FROM referral ORDER BY random() LIMIT $1",
            referrals,
        )
    finally:
        await connection.close()
    settings = ReferralSettings()  # the keys the facts were built with; the service's timeout
    database = Database(url, statement_timeout_seconds=settings.db_statement_timeout_seconds)
    try:
        began = time.perf_counter()
        derived = await facts.refresh(database, settings.pseudonym_key, settings.disclosure_key)
        return derived, time.perf_counter() - began
    finally:
        await database.dispose()


def _print(size: int, results: dict[str, dict[str, Any]], timings: dict[str, float]) -> None:
    load = os.getloadavg()[0]
    print(
        f"\n{size:,} referrals (generated in {timings['generate_s']:.0f} s, facts built in "
        f"{timings['facts_s']:.0f} s; load average {load:.1f} on {os.cpu_count()} cores)"
    )
    print(
        f"{'report':<18}{'requests':>9}{'failed':>7}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}"
        "  target p95"
    )
    for name, figures in results.items():
        met = figures["p95_ms"] <= TARGET_P95_MS and not figures["failed"]
        print(
            f"{name:<18}{figures['requests']:>9}{figures['failed']:>7}{figures['p50_ms']:>9.0f}"
            f"{figures['p95_ms']:>9.0f}{figures['max_ms']:>9.0f}  <= {TARGET_P95_MS:.0f} "
            + ("ok" if met else "MISSED")
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000,1000000", help="referral counts, ascending")
    parser.add_argument("--rounds", type=int, default=5, help="passes over each report's queries")
    parser.add_argument("--database-url", help="reuse this database (topped up as needed)")
    parser.add_argument("--keep", action="store_true", help="do not drop the database")
    args, _ = parser.parse_known_args(argv)
    url = args.database_url or migrated_postgres("referral")
    all_results: dict[int, dict[str, dict[str, Any]]] = {}
    try:
        sizes = _sizes(args.sizes)
        have = asyncio.run(_count(url))
        if any(size < have for size in sizes):  # a reused database cannot shrink
            print(f"the database holds {have:,} referrals: smaller sizes are measured at that")
            sizes = [have, *(size for size in sizes if size > have)]
        for size in sizes:
            timings = _fill(url, size)
            results = _measure(url, args.rounds)
            all_results[size] = results
            _print(size, results, timings)
            derived, seconds = asyncio.run(_backlog_refresh(url))
            print(
                f"refresh of a backlog of {BACKLOG:,} referrals picked at random (every month): "
                f"{derived:,} referrals derived in {seconds:.1f} s"
            )
        for smaller, larger in itertools.pairwise(sorted(all_results)):
            print(f"\ngrowth {smaller:,} -> {larger:,} referrals ({larger / smaller:.0f}x data)")
            for name in QUERIES:
                before, after = all_results[smaller][name], all_results[larger][name]
                print(
                    f"{name:<18} p50 x{after['p50_ms'] / before['p50_ms']:.1f}  "
                    f"p95 x{after['p95_ms'] / before['p95_ms']:.1f}"
                )
    finally:
        if args.keep or args.database_url:
            print(f"\ndatabase kept: {url}")
        else:
            drop(url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
