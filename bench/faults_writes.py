"""Fault scenario `person-writes`: bursts of 50 concurrent writes for one person (one NHS number)
against referral-api under uvicorn with 2 workers on PostgreSQL.

Each burst mixes REST creates (half of them conditional, `If-None-Exist`) and `new` messages
(`$process-message`), alternating two roles so every referral is linked to the person's others.
Every write for one person relinks all of the person's referrals, so the bursts grow harder:
the third meets 100 referrals already linked. A write answered 503 is retried once after its
`Retry-After`, as a client would.

Figures per burst: served, statuses, 5xx other than 503 (goal 0), 503s (and whether the retry
succeeded), and data lost: every referral acknowledged with 201 or 200 must be readable
afterwards (goal 0); the person's referrals must number exactly the acknowledged ones.
"""

import asyncio
import json
import time
import uuid
from typing import Any

import httpx
from tests.support.builders import NHS_NUMBERS, service_request
from tests.support.messages import emis_patient, emis_service_request, message

from bench.common import drop, migrated_postgres, serve, token

ROLES = ("social-prescribing-link-worker", "health-and-wellbeing-coach")
REFERRAL_ID = "https://emis.example/referral-id"


def _write(index: int, burst: int, nhs_number: str) -> tuple[str, str, dict[str, Any], dict]:
    """(kind, path, headers, body) of the index-th write of a burst."""
    identifier = f"PW-{burst}-{index}-{uuid.uuid4().hex[:8]}"
    role = ROLES[index % 2]
    if index % 2 == 0:
        body = service_request(identifier=identifier, nhs_number=nhs_number, role=role)
        headers = (
            {"If-None-Exist": f"identifier={REFERRAL_ID}|{identifier}"} if index % 4 == 0 else {}
        )
        return "rest", "/fhir/ServiceRequest", headers, body
    resource = emis_service_request(identifier, nhs_number=nhs_number, role=role)
    bundle = message(
        resource,
        reason_code="new",
        timestamp="2026-10-01T10:00:00Z",
        bundle_id=str(uuid.uuid4()),
        patient=emis_patient(nhs_number),
    )
    return "message", "/fhir/$process-message", {}, bundle


def _acknowledged_id(kind: str, response: httpx.Response) -> str | None:
    if response.status_code not in (200, 201):
        return None
    body = response.json()
    if kind == "rest":
        return str(body["id"])
    focus = body["entry"][0]["resource"]["focus"][0]["reference"]
    return str(focus.rsplit("/", 1)[1])


async def _burst(
    client: httpx.AsyncClient, burst: int, writes: int, nhs_number: str
) -> dict[str, Any]:
    planned = [_write(index, burst, nhs_number) for index in range(writes)]

    async def send(kind: str, path: str, headers: dict[str, Any], body: dict) -> httpx.Response:
        return await client.post(path, json=body, headers=headers)

    started = time.monotonic()
    responses = await asyncio.gather(*(send(*write) for write in planned))
    seconds = time.monotonic() - started
    statuses: dict[str, int] = {}
    for response in responses:
        statuses[str(response.status_code)] = statuses.get(str(response.status_code), 0) + 1
    # Why each 503: `timeout` (a statement, or a wait for the person's lock, outlasted the
    # statement timeout) or `transient` (a write conflict left after the retries, an outage).
    reasons: dict[str, int] = {}
    for response in responses:
        if response.status_code == 503:
            code = response.json()["issue"][0]["code"]
            reasons[code] = reasons.get(code, 0) + 1
    retried_ok = 0
    final = list(responses)
    for position, response in enumerate(responses):
        if response.status_code == 503:
            await asyncio.sleep(float(response.headers.get("Retry-After", "1")))
            final[position] = await send(*planned[position])
            retried_ok += final[position].status_code in (200, 201)
    acknowledged = [
        found
        for (kind, *_), response in zip(planned, final, strict=True)
        if (found := _acknowledged_id(kind, response))
    ]
    return {
        "writes": writes,
        "seconds": round(seconds, 2),
        "served": len(responses),
        "statuses": statuses,
        "5xx_other_than_503": sum(
            count
            for status, count in statuses.items()
            if status.startswith("5") and status != "503"
        ),
        "503": statuses.get("503", 0),
        "503_reasons": reasons,
        "503_retried_ok": retried_ok,
        "acknowledged": acknowledged,
    }


async def _drive(url: str, bursts: int, writes: int, nhs_number: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token('referral:write', 'referral:read')}"}
    limits = httpx.Limits(max_connections=writes + 10)
    async with httpx.AsyncClient(
        base_url=url, headers=headers, timeout=120, limits=limits
    ) as client:
        results = [await _burst(client, burst, writes, nhs_number) for burst in range(bursts)]
        acknowledged = [found for result in results for found in result.pop("acknowledged")]
        lost = 0
        for referral_id in acknowledged:
            lost += (await client.get(f"/fhir/ServiceRequest/{referral_id}")).status_code != 200
        person = await client.get(
            "/fhir/ServiceRequest",
            params={"patient.identifier": nhs_number, "_count": 0},
        )
    return {
        "bursts": results,
        "acknowledged": len(acknowledged),
        "acknowledged_distinct": len(set(acknowledged)),
        "data_lost": lost,
        "referrals_of_the_person": person.json()["total"],
    }


def person_writes(bursts: int = 3, writes: int = 50) -> dict[str, Any]:
    database = migrated_postgres("referral")
    try:
        env = {"REFERRAL_DATABASE_URL": database, "REFERRAL_LOG_LEVEL": "ERROR"}
        with serve("referral_api.main:create_app", env=env) as url:
            result = asyncio.run(_drive(url, bursts, writes, NHS_NUMBERS[0]))
    finally:
        drop(database)
    print(f"{bursts} bursts of {writes} concurrent writes for one person (2 workers):")
    print(json.dumps(result, indent=2))
    return result
