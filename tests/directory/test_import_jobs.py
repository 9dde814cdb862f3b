"""Bulk import limits and failures: a record cap, jobs that fail say so, stale jobs time out,
and a stopped import resumes from its last committed batch."""

from datetime import UTC, datetime, timedelta

import orjson
import pytest
from sqlalchemy import event, text

from directory_api.imports.service import parse_export, run_import
from signpost_platform.db import Database
from signpost_platform.errors import SignpostError
from tests.directory.builders import location, new_id, organization, service
from tests.directory.conftest import WRITE

NDJSON = {**WRITE, "Content-Type": "application/x-ndjson"}


def good_record() -> dict:
    """A service with its organisation and location nested, as an export carries it."""
    org, place = organization(), location()
    record = service(org["id"], [place["id"]])
    record["organization"] = org
    record["service_at_locations"] = [{"location": place}]
    return record


def export(records: list) -> bytes:
    return b"\n".join(orjson.dumps(record) for record in records)


def path_of(report: dict) -> str:
    return report["url"].removeprefix("http://directory.test")


async def test_an_import_over_the_record_cap_is_refused_before_anything_is_written(
    client, directory_app, monkeypatch
):
    monkeypatch.setattr(directory_app.state.settings, "import_max_records", 3)
    invalid = [{"name": ""} for _ in range(4)]

    refused = await client.post("/imports", content=export(invalid), headers=NDJSON)
    accepted = await client.post("/imports", content=export(invalid[:3]), headers=NDJSON)

    assert refused.status_code == 413
    assert "holds 4 records; an import takes at most 3" in refused.json()["detail"]
    assert "DIRECTORY_IMPORT_MAX_RECORDS" in refused.json()["detail"]
    assert accepted.status_code == 201 and accepted.json()["failed_records"] == 3


def failing_database(url: str, on_job_update: int) -> Database:
    """The same database, whose connection drops at the n-th progress update of an import."""
    database = Database(url)
    updates = 0

    @event.listens_for(database.engine.sync_engine, "before_cursor_execute")
    def _drop(conn, cursor, statement, parameters, context, executemany):
        nonlocal updates
        if statement.lstrip().upper().startswith("UPDATE IMPORT_JOB"):
            updates += 1
            if updates == on_job_update:
                raise ConnectionResetError("connection lost")

    return database


async def test_an_import_that_loses_the_database_fails_with_the_reason_and_resumes(
    client, directory_app
):
    first, last = good_record(), good_record()
    records = [first, *({"name": ""} for _ in range(118)), last]
    body = export(records)
    database = failing_database(directory_app.state.database.url, on_job_update=3)

    try:
        with pytest.raises(SignpostError) as stopped:
            await run_import(
                database.sessionmaker,
                parse_export(body, "application/x-ndjson"),
                "test",
                max_records=1000,
            )
    finally:
        await database.dispose()

    assert stopped.value.status_code == 503 and "Retry-After" in stopped.value.headers
    job_id = str(stopped.value).split()[1]
    assert f"POST /imports?resume={job_id}" in str(stopped.value)
    job = (await client.get(f"/imports/{job_id}", headers=WRITE)).json()
    assert job["status"] == "failed"
    assert job["processed_records"] == 100  # two batches of 50 committed, the third rolled back
    assert job["failure_reason"].startswith("database unavailable after 100 of 120 records")
    assert f"/imports?resume={job_id}" in job["resume"]
    assert (await client.get(f"/services/{first['id']}")).status_code == 200
    assert (await client.get(f"/services/{last['id']}")).status_code == 404

    resumed = await client.post(f"/imports?resume={job_id}", content=body, headers=NDJSON)

    assert resumed.status_code == 201, resumed.text
    report = resumed.json()
    assert report["id"] == job_id and report["status"] == "completed"
    assert "failure_reason" not in report and "resume" not in report
    assert (report["processed_records"], report["imported_records"]) == (120, 2)
    assert report["failed_records"] == 118
    assert sorted(error["record"] for error in report["errors"]) == list(range(2, 120))
    assert (await client.get(f"/services/{last['id']}")).status_code == 200
    again = await client.post(f"/imports?resume={job_id}", content=body, headers=NDJSON)
    assert again.status_code == 409 and "already completed" in again.json()["detail"]


async def set_job(app, job_id: str, **values) -> None:
    """Put a job in the state a crashed process leaves it in."""
    assignments = ", ".join(f"{name} = :{name}" for name in values)
    async with app.state.database.engine.begin() as connection:
        await connection.execute(
            text(f"UPDATE import_job SET {assignments} WHERE id = :id"),  # noqa: S608
            {"id": job_id, **values},
        )


async def test_a_running_import_without_a_heartbeat_reads_as_failed_and_can_be_resumed(
    client, directory_app
):
    record = good_record()
    body = export([record])
    created = (await client.post("/imports", content=body, headers=NDJSON)).json()
    stale_after = directory_app.state.settings.import_stale_after_seconds
    long_ago = datetime.now(UTC) - timedelta(seconds=stale_after + 60)
    await set_job(
        directory_app,
        created["id"],
        status="running",
        processed_records=0,
        imported_records=0,
        finished_at=None,
        updated_at=long_ago,
    )

    stale = (await client.get(path_of(created), headers=WRITE)).json()
    resumed = await client.post(f"/imports?resume={created['id']}", content=body, headers=NDJSON)

    assert stale["status"] == "failed"
    assert stale["failure_reason"].startswith("stale: no batch committed for")
    assert "after 0 of 1 records" in stale["failure_reason"]
    assert resumed.status_code == 201, resumed.text
    assert resumed.json()["status"] == "completed"
    assert resumed.json()["unchanged_records"] == 1


async def test_a_live_import_cannot_be_resumed_beside_itself(client, directory_app):
    body = export([{"name": ""}])
    created = (await client.post("/imports", content=body, headers=NDJSON)).json()
    await set_job(directory_app, created["id"], status="running", updated_at=datetime.now(UTC))

    running = (await client.get(path_of(created), headers=WRITE)).json()
    resumed = await client.post(f"/imports?resume={created['id']}", content=body, headers=NDJSON)
    other_export = await client.post(
        f"/imports?resume={created['id']}", content=export([{}, {}]), headers=NDJSON
    )
    unknown = await client.post(f"/imports?resume={new_id()}", content=body, headers=NDJSON)

    assert running["status"] == "running" and "failure_reason" not in running
    assert resumed.status_code == 409 and "still running" in resumed.json()["detail"]
    assert other_export.status_code == 409
    assert "resume it with the same export" in other_export.json()["detail"]
    assert unknown.status_code == 404
