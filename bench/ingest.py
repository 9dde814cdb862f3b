"""Message ingestion on PostgreSQL: `POST /fhir/$process-message` with 2 workers.

Measures, under the same uvicorn settings as the other benchmarks:
- a typical update message: one new contact (Encounter) for one of 500 referrals (of 500
  people, as a service's referrals are: one person's many referrals would all link to each
  other), carrying the unchanged ServiceRequest, each request a new message id (target >= 1,500
  messages/s);
- a replay of messages already processed (the same Bundle ids sent again: integrations resend).
Referrals are seeded first through `new` messages.
"""

import asyncio
import json
import os
import sys
import tempfile
from itertools import islice
from pathlib import Path

import httpx
from tests.support.messages import contact, emis_patient, emis_service_request, message
from tests.support.reports import synthetic_nhs_numbers

from bench.common import (
    Load,
    drop,
    ensure_wrk,
    fhir_headers,
    main_with_connections,
    migrated_postgres,
    resident_memory,
    run_wrk,
    serve,
)

UPDATE_TARGET = 1500
REFERRALS = 500
WORKERS = int(os.environ.get("SIGNPOST_BENCH_WORKERS", "2"))
DURATION = int(os.environ.get("SIGNPOST_BENCH_SECONDS", "10"))
# The NHS number of each referral's person, by the referral's number.
PEOPLE = list(islice(synthetic_nhs_numbers(), REFERRALS))

# Each request: a unique message and contact id, and one of the seeded referrals in turn.
_LUA = r"""
local headers = os.getenv("WRK_HEADERS") or "{}"
wrk.method = "POST"
local body = os.getenv("WRK_BODY")
local referrals = tonumber(os.getenv("WRK_REFERRALS"))
local replay = os.getenv("WRK_REPLAY") == "1"
local people = {}
for value in string.gmatch(os.getenv("WRK_PEOPLE"), "[^,]+") do
  people[#people + 1] = value
end
for key, value in string.gmatch(headers, '"([^"]+)"%s*:%s*"([^"]*)"') do
  wrk.headers[key] = value
end
local counter = 0
local thread_id = 0
function setup(thread)
  thread_id = thread_id + 1
  thread:set("tid", thread_id)
end
function init(args)
  math.randomseed(os.time() + (tid or 0))
  run_id = tostring(os.time()) .. "-" .. tostring(math.random(1, 1000000000))
end
function request()
  counter = counter + 1
  local n = counter
  if replay then n = counter % referrals end
  local unique = run_id .. "-" .. tostring(tid) .. "-" .. tostring(n)
  if replay then unique = "replay-" .. tostring(n) end
  local referral = tostring((counter * 7 + (tid or 0) * 13) % referrals)
  if replay then referral = tostring(n) end
  local this_body = string.gsub(body, "MSGMARKER", unique)
  this_body = string.gsub(this_body, "REFMARKER", referral)
  this_body = string.gsub(this_body, "NHSMARKER", people[tonumber(referral) + 1])
  return wrk.format(nil, nil, nil, this_body)
end
function done(summary, latency, requests)
  local failures = summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"p50":%d,"p90":%d,"p95":%d,"p99":%d,"failures":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(95), latency:percentile(99), failures))
end
"""


def update_template() -> str:
    """A typical update: the unchanged ServiceRequest plus one new attended contact."""
    request = emis_service_request("BENCH-REFMARKER", nhs_number="NHSMARKER")
    update = message(
        request,
        contact("contact-MSGMARKER", "2026-10-05T10:00:00Z"),
        timestamp="2026-10-05T12:00:00Z",
        bundle_id="MSGMARKER",
    )
    return json.dumps(update)


async def _seed(url: str, headers: dict[str, str]) -> None:
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as client:
        semaphore = asyncio.Semaphore(16)

        async def one(index: int) -> None:
            request = emis_service_request(f"BENCH-{index}", nhs_number=PEOPLE[index])
            body = message(
                request,
                reason_code="new",
                patient=emis_patient(PEOPLE[index]),
                timestamp="2026-10-01T09:05:00Z",
                bundle_id=f"seed-{index}",
            )
            async with semaphore:
                response = await client.post("/fhir/$process-message", json=body)
                response.raise_for_status()

        await asyncio.gather(*(one(i) for i in range(REFERRALS)))


async def _process_replay_set(url: str, headers: dict[str, str]) -> None:
    """Process each message of the replay set once, so the measured run only resends."""
    template = update_template()
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as client:
        for index in range(REFERRALS):
            body = (
                template.replace("MSGMARKER", f"replay-{index}")
                .replace("REFMARKER", str(index))
                .replace("NHSMARKER", PEOPLE[index])
            )
            response = await client.post("/fhir/$process-message", content=body)
            response.raise_for_status()


def drive(
    url: str, headers: dict[str, str], *, replay: bool, duration: int, connections: int
) -> Load:
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "ingest.lua"
        script.write_text(_LUA)
        env = {
            **os.environ,
            "WRK_BODY": update_template(),
            "WRK_HEADERS": json.dumps(headers),
            "WRK_REFERRALS": str(REFERRALS),
            "WRK_REPLAY": "1" if replay else "0",
            "WRK_PEOPLE": ",".join(PEOPLE),
        }
        command = [
            ensure_wrk(),
            "-t2",
            f"-c{connections}",
            f"-d{duration}s",
            "-s",
            str(script),
            f"{url}/fhir/$process-message",
        ]
        return run_wrk(command, env)


def run(connections: int = 32) -> dict[str, object]:
    database = migrated_postgres("referral")
    headers = fhir_headers("referral:write", "referral:read")
    try:
        env = {"REFERRAL_DATABASE_URL": database, "REFERRAL_LOG_LEVEL": "WARNING"}
        with serve("referral_api.main:create_app", env=env, workers=WORKERS) as url:
            asyncio.run(_seed(url, headers))
            drive(url, headers, replay=False, duration=2, connections=connections)  # warm-up
            update = drive(url, headers, replay=False, duration=DURATION, connections=connections)
            asyncio.run(_process_replay_set(url, headers))
            replay = drive(url, headers, replay=True, duration=DURATION, connections=connections)
            resident_memory(url, "referral-api")
    finally:
        drop(database)
    print(f"referral-api $process-message on PostgreSQL ({WORKERS} workers, uvloop/httptools)")
    print(update.row("update message (1 new contact)"))
    print(replay.row("replay of messages already processed"))
    print(
        f"update messages/s = {update.rps:.0f} (target >= {UPDATE_TARGET}) "
        f"{'MET' if update.rps >= UPDATE_TARGET else 'MISSED'}"
    )
    return {"update": update.as_dict(), "replay": replay.as_dict()}


def main(argv: list[str] | None = None) -> int:
    return main_with_connections(__doc__ or "", run, argv)


if __name__ == "__main__":
    sys.exit(main())
