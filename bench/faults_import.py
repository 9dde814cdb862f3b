"""Fault scenario `directory-import-killed`: a large bulk import into directory-api (`POST
/imports`, NDJSON) while its database connections are terminated, again and again.

directory-api runs under uvicorn (2 workers) on its own PostgreSQL database, with the record cap
and body limit raised for one large export. While the import runs, a separate admin connection
terminates every connection to that database (`pg_terminate_backend`, only this database's)
`KILLS` times, spread over the import; meanwhile a reader polls `GET /imports/{id}` and `GET
/services`. Each time the import stops, the job must read `failed` (not stay `running`) and is
resumed with `POST /imports?resume=<id>` and the same export, until it completes.

Figures: the job's final state and counts, records imported, records lost after resume (every
service of the export must be in the directory: goal 0), the status of each import request and
every 5xx seen by the reader (goal 0; an interrupted import answers 503 with `Retry-After` by
design, counted apart).
"""

import asyncio
import json
import time
from typing import Any

import httpx
import orjson
from sqlalchemy import make_url, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool
from tests.directory.builders import location, organization, service

from bench.common import POSTGRES_ADMIN_URL, drop, migrated_postgres, serve, token

# An import saves a few records a second on a busy 2-core machine (about 50 statements each):
# 600 records keep the scenario to minutes. `--records` takes more on a faster machine.
RECORDS = 600
KILLS = 3


def _export(count: int) -> bytes:
    """`count` services, each with its own organisation and location nested (as exported)."""
    lines = []
    for index in range(count):
        org = organization(name=f"Synthetic trust {index}")
        place = location()
        record = service(org["id"], [place["id"]], name=f"Synthetic advice service {index}")
        record["organization"] = org
        record["service_at_locations"] = [{"location": place}]
        lines.append(orjson.dumps(record))
    return b"\n".join(lines)


async def _terminate(database: str) -> int:
    """Terminate every connection to `database` (and no other) from an admin connection."""
    engine = create_async_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            result = await connection.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": make_url(database).database},
            )
            return int(result.scalar_one())
    finally:
        await engine.dispose()


async def _query(database: str, sql: str, **params: Any) -> Any:
    """One value from the scenario's own database, on a connection of its own; the kills end
    these connections too, so a query that meets one is asked again."""
    for attempt in range(5):
        engine = create_async_engine(database, poolclass=NullPool)
        try:
            async with engine.connect() as connection:
                return (await connection.execute(text(sql), params)).scalar()
        except (DBAPIError, OSError):
            if attempt == 4:
                raise
            await asyncio.sleep(0.2)
        finally:
            await engine.dispose()
    return None


async def _job_id(database: str) -> str | None:
    found = await _query(database, "SELECT id FROM import_job ORDER BY started_at DESC LIMIT 1")
    return str(found) if found else None


async def _count_services(database: str, ids: list[str]) -> int:
    return int(
        await _query(
            database,
            "SELECT count(*) FROM service WHERE id = ANY(CAST(:ids AS varchar[]))",
            ids=ids,
        )
    )


async def _drive(
    url: str, database: str, body: bytes, ids: list[str], kills_wanted: int
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token('directory:write')}"}
    ndjson = {**headers, "Content-Type": "application/x-ndjson"}
    answers: list[dict[str, Any]] = []
    reader_statuses: dict[str, int] = {}
    kills: list[dict[str, Any]] = []
    states_after_stop: list[str] = []
    done = asyncio.Event()
    started = time.monotonic()

    async with httpx.AsyncClient(base_url=url, timeout=900) as client:

        async def reader() -> None:
            while not done.is_set():
                job = await _job_id(database) if not answers else answers[-1].get("job")
                paths = ["/services?per_page=1"] + ([f"/imports/{job}"] if job else [])
                for path in paths:
                    try:
                        status = str((await client.get(path, headers=headers)).status_code)
                    except httpx.HTTPError as error:
                        status = type(error).__name__
                    reader_statuses[status] = reader_statuses.get(status, 0) + 1
                await asyncio.sleep(0.5)

        async def killer() -> None:
            # Spread over the import: the n-th kill once n/(kills+1) of the records are in.
            for number in range(1, kills_wanted + 1):
                mark = len(ids) * number // (kills_wanted + 1)
                while not done.is_set():
                    processed = await _query(
                        database, "SELECT max(processed_records) FROM import_job"
                    )
                    if processed is not None and processed >= mark:
                        break
                    await asyncio.sleep(0.5)
                if done.is_set():
                    return
                terminated = await _terminate(database)
                kills.append(
                    {
                        "at_s": round(time.monotonic() - started, 1),
                        "after_records": processed,
                        "connections_terminated": terminated,
                    }
                )

        async def importer() -> None:
            job: str | None = None
            while True:
                path = f"/imports?resume={job}" if job else "/imports"
                response = await client.post(path, content=body, headers=ndjson)
                job = job or await _job_id(database)
                answer = {"status": response.status_code, "job": job}
                answers.append(answer)
                if response.status_code == 201:
                    break
                if response.status_code == 409:  # still running: the job did not record its stop
                    await asyncio.sleep(5)
                    continue
                state = (await client.get(f"/imports/{job}", headers=headers)).json()["status"]
                states_after_stop.append(state)
                await asyncio.sleep(float(response.headers.get("Retry-After", "1")))
            done.set()

        await asyncio.gather(importer(), killer(), reader())
        job = answers[-1]["job"]
        final = (await client.get(f"/imports/{job}", headers=headers)).json()
    present = await _count_services(database, ids)
    return {
        "records": len(ids),
        "seconds": round(time.monotonic() - started, 1),
        "kills": kills,
        "import_requests": [a["status"] for a in answers],
        "job_state_after_each_stop": states_after_stop,
        "final_state": final["status"],
        "processed_records": final["processed_records"],
        "imported_records": final["imported_records"],
        "unchanged_records": final["unchanged_records"],
        "failed_records": final["failed_records"],
        "services_present": present,
        "records_lost": len(ids) - present,
        "reader_statuses": reader_statuses,
        "reader_5xx": sum(n for s, n in reader_statuses.items() if s.startswith("5")),
    }


def directory_import_killed(records: int = RECORDS, kills: int = KILLS) -> dict[str, Any]:
    body = _export(records)
    ids = [orjson.loads(line)["id"] for line in body.splitlines()]
    database = migrated_postgres("directory")
    try:
        env = {
            "DIRECTORY_DATABASE_URL": database,
            "DIRECTORY_LOG_LEVEL": "ERROR",
            "DIRECTORY_IMPORT_MAX_RECORDS": str(records),
            "DIRECTORY_MAX_BODY_BYTES": str(len(body) + 1024),
            "DIRECTORY_SEED_SAMPLE_SERVICES": "false",
        }
        with serve("directory_api.main:create_app", env=env) as url:
            result = asyncio.run(_drive(url, database, body, ids, kills))
    finally:
        time.sleep(1)
        drop(database)
    print(
        f"directory-api bulk import of {records:,} records, connections terminated {kills} times:"
    )
    print(json.dumps(result, indent=2))
    return result
