"""referral-api throughput against a bare FastAPI endpoint, on PostgreSQL.

Measures, in one run and under the same uvicorn settings and worker count:
- a bare FastAPI endpoint (the yardstick);
- referral create (a two-reason ServiceRequest, each request a new identifier);
- a search returning 20 referrals (by requester, from 400 of that practice, with total).
Targets: create >= 0.35 x bare, search >= 0.25 x bare.
"""

import asyncio
import json
import sys

import httpx
from tests.support.builders import coded_extension

from bench.common import (
    Load,
    bare_rps,
    drop,
    fhir_headers,
    main_with_connections,
    migrated_postgres,
    resident_memory,
    serve,
    warmed_wrk,
)
from signpost_schemas import systems

MARKER = "__UNIQUE__"
NHS_MARKER = "__NHS_NUMBER__"
CREATE_TARGET = 0.35
SEARCH_TARGET = 0.25


def referral_body(
    identifier: str, requester: str = "F84001", nhs_number: str = "9434765919"
) -> dict[str, object]:
    return {
        "resourceType": "ServiceRequest",
        "identifier": [{"system": "https://emis.example/referral-id", "value": identifier}],
        "extension": [
            coded_extension(
                systems.SOURCE_OF_SERVICE_REQUEST_EXTENSION, systems.SNOMED, "108161000000109"
            )
        ],
        "status": "active",
        "intent": "order",
        "subject": {"identifier": {"system": systems.NHS_NUMBER, "value": nhs_number}},
        "authoredOn": "2026-10-01T10:00:00Z",
        "requester": {"identifier": {"system": systems.ODS_ORGANIZATION, "value": requester}},
        "performerType": {
            "coding": [
                {"system": systems.PERSONALISED_CARE_ROLE, "code": "social-prescribing-link-worker"}
            ]
        },
        "reasonCode": [
            {"coding": [{"system": systems.SNOMED, "code": "105531004"}], "text": "Damp flat"},
            {"coding": [{"system": systems.SNOMED, "code": "160932005"}]},
        ],
    }


async def _seed(url: str, headers: dict[str, str], requester: str, count: int) -> None:
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as client:
        semaphore = asyncio.Semaphore(16)

        async def one(index: int) -> None:
            async with semaphore:
                response = await client.post(
                    "/fhir/ServiceRequest",
                    json=referral_body(f"SEED-{requester}-{index}", requester),
                )
                response.raise_for_status()

        await asyncio.gather(*(one(i) for i in range(count)))


def run(connections: int = 32) -> dict[str, object]:
    bare = bare_rps(connections)
    database = migrated_postgres("referral")
    write_headers = fhir_headers("referral:write", "referral:read")
    try:
        env = {"REFERRAL_DATABASE_URL": database, "REFERRAL_LOG_LEVEL": "WARNING"}
        with serve("referral_api.main:create_app", env=env) as url:
            body = json.dumps(referral_body(MARKER, nhs_number=NHS_MARKER))
            endpoint = f"{url}/fhir/ServiceRequest"
            create = warmed_wrk(
                endpoint,
                method="POST",
                body=body,
                headers=write_headers,
                unique_marker=MARKER,
                nhs_number_marker=NHS_MARKER,
                connections=connections,
            )
            asyncio.run(_seed(url, write_headers, "Y01234", 400))
            search_url = f"{endpoint}?requester=Y01234&_count=20"
            check = httpx.get(search_url, headers=write_headers).json()
            assert len(check["entry"]) == 20 and check["total"] == 400, "search seed is wrong"
            search = warmed_wrk(search_url, headers=write_headers, connections=connections)
            resident_memory(url, "referral-api")
    finally:
        drop(database)
    return report(bare, create, search)


def report(bare: Load, create: Load, search: Load) -> dict[str, object]:
    create_ratio = create.rps / bare.rps
    search_ratio = search.rps / bare.rps
    print("referral-api on PostgreSQL (uvicorn, uvloop/httptools)")
    print(bare.row("bare FastAPI GET /ping"))
    print(create.row("POST /fhir/ServiceRequest (2 reasons)"))
    print(search.row("GET /fhir/ServiceRequest (20 of 400)"))
    print(
        f"create / bare = {create_ratio:.2f} (target >= {CREATE_TARGET})"
        f" {'MET' if create_ratio >= CREATE_TARGET else 'MISSED'}"
    )
    print(
        f"search / bare = {search_ratio:.2f} (target >= {SEARCH_TARGET})"
        f" {'MET' if search_ratio >= SEARCH_TARGET else 'MISSED'}"
    )
    return {
        "bare": bare.as_dict(),
        "create": create.as_dict(),
        "search": search.as_dict(),
        "create_ratio": round(create_ratio, 3),
        "search_ratio": round(search_ratio, 3),
    }


def main(argv: list[str] | None = None) -> int:
    return main_with_connections(__doc__ or "", run, argv)


if __name__ == "__main__":
    sys.exit(main())
