"""Report requests only read: the refresh worker keeps the facts current, and every report says
up to when its facts include every committed change (`X-Facts-Refreshed-At`), on both backends."""

import asyncio
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import event, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from referral_api.config import ReferralSettings
from referral_api.db import Base
from referral_api.main import create_app
from tests.reports.conftest import UNSUPPRESSED
from tests.support.builders import fresh_nhs_number, service_request
from tests.support.clients import bearer, running, unrefreshed_client
from tests.support.reports import Dataset, Person
from tests.support.rows import count_rows

WRITE = bearer("referral:write", "referral:read", "referral:all-organisations")
# Any statement that changes data, schema, locks or session settings (a report's planner
# settings are `set_config(..., true)`: its read-only transaction's alone, rolled back).
WRITING = re.compile(
    r"^\s*(INSERT|UPDATE|DELETE|REPLACE|MERGE|UPSERT|CREATE|DROP|ALTER|TRUNCATE|ANALYZE|"
    r"VACUUM|REINDEX|COPY|SET|LOCK|GRANT|NOTIFY)\b|pg_advisory|\bINTO\b",
    re.IGNORECASE,
)


@contextmanager
def statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """Every statement `engine` runs inside the block."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def everything(app: FastAPI) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order."""
    contents = {}
    async with app.state.database.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            rows = (await connection.execute(select(table))).all()
            contents[table.name] = sorted(tuple(map(repr, row)) for row in rows)
    return contents


def worker_settings(database_url: str) -> ReferralSettings:
    """The refresh worker on, woken by writes only (its poll far away), with no linger."""
    return ReferralSettings(
        database_url=database_url,
        environment="test",
        report_refresh_worker_enabled=True,
        report_refresh_poll_seconds=3600,
        report_refresh_linger_seconds=0,
    )


def stamp(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


async def test_a_report_request_writes_nothing_and_says_how_fresh_its_facts_are(
    load, referral_app: FastAPI
):
    d = Dataset()
    kept = d.referral(details=Person())
    for _ in range(2):
        d.referral(details=Person())
    await load(d)
    before_refresh = datetime.now(UTC).replace(microsecond=0)
    assert await referral_app.state.report_facts.refresh() == 3
    # A write after the refresh: queued, not yet in the facts.
    async with referral_app.state.database.engine.begin() as connection:
        await connection.execute(
            text("UPDATE referral_person SET gender = 'male' WHERE referral_id = :id"), {"id": kept}
        )
    assert await count_rows(referral_app, "report_change") > 0

    snapshot = await everything(referral_app)
    async with unrefreshed_client(referral_app, "http://referral.test") as client:
        with statements(referral_app.state.database.engine) as seen:
            answers = [
                await client.get(
                    "/reports/referrals", params={"group_by": "gender"}, headers=UNSUPPRESSED
                ),
                await client.get(
                    "/reports/outcomes", params={"format": "csv"}, headers=UNSUPPRESSED
                ),
                await client.get(
                    "/reports/attendance", params={"format": "svg"}, headers=UNSUPPRESSED
                ),
                await client.get(
                    "/reports/reasons", params={"group_by": "age-band"}, headers=UNSUPPRESSED
                ),
                await client.get("/reports/data-quality", headers=UNSUPPRESSED),
                await client.get("/reports/workers", headers=UNSUPPRESSED),
            ]
    assert [a.status_code for a in answers] == [200] * 6
    assert seen, "the statements were not observed"
    assert [s for s in seen if WRITING.search(s)] == []
    assert await everything(referral_app) == snapshot

    # The facts as the refresh left them (three women), current up to when it began.
    by_gender = [(r["gender"], r["referrals"]) for r in answers[0].json()["rows"]]
    assert by_gender == [("female", 3)]
    refreshed_at = {stamp(a.headers["X-Facts-Refreshed-At"]) for a in answers}
    assert len(refreshed_at) == 1
    [as_of] = refreshed_at
    assert before_refresh <= as_of <= datetime.now(UTC)

    # Once refreshed, the change is in, and the facts are current up to the request.
    assert await referral_app.state.report_facts.refresh() == 1
    async with unrefreshed_client(referral_app, "http://referral.test") as client:
        before_request = datetime.now(UTC).replace(microsecond=0)
        answer = await client.get(
            "/reports/referrals", params={"group_by": "gender"}, headers=UNSUPPRESSED
        )
    by_gender = [(r["gender"], r["referrals"]) for r in answer.json()["rows"]]
    assert by_gender == [("male", 1), ("female", 2)]
    assert stamp(answer.headers["X-Facts-Refreshed-At"]) >= before_request


async def test_the_worker_refreshes_the_facts_after_a_write(referral_app, referral_database):
    """With the worker on and its poll far away, a committed write wakes it."""
    app = create_app(worker_settings(referral_database))
    async with running(app, "http://referral.test") as client:
        body = service_request(identifier="FRESH-1", nhs_number=fresh_nhs_number())
        created = await client.post("/fhir/ServiceRequest", json=body, headers=WRITE)
        assert created.status_code == 201, created.text

        await refreshed(app)
        async with unrefreshed_client(app, "http://referral.test") as reader:
            answer = await reader.get("/reports/referrals", headers=UNSUPPRESSED)
        assert answer.json()["totals"][0]["referrals"] == 1
        assert "X-Facts-Refreshed-At" in answer.headers


async def refreshed(app: FastAPI) -> None:
    """Wait for the worker to take every change off the queue and derive facts; the timeout is
    a guard against a worker that never wakes, not a speed assertion."""

    async def passes() -> None:
        while await count_rows(app, "report_change") or not await count_rows(
            app, "report_referral"
        ):
            await app.state.report_facts.next_pass()

    await asyncio.wait_for(passes(), timeout=60)


async def test_the_worker_refreshes_on_a_connection_of_its_own(
    referral_app, referral_database, backend
):
    """On PostgreSQL the worker's passes run on a connection of their own, never on the
    service's pool that requests use; on SQLite, one writer at a time, on the service's."""
    app = create_app(
        worker_settings(referral_database).model_copy(update={"db_statement_timeout_seconds": 7})
    )
    async with running(app, "http://referral.test") as client:
        service = app.state.database.engine
        worker = app.state.report_facts.database.engine
        with statements(service) as on_service, statements(worker) as on_worker:
            body = service_request(identifier="OWN-1", nhs_number=fresh_nhs_number())
            created = await client.post("/fhir/ServiceRequest", json=body, headers=WRITE)
            assert created.status_code == 201, created.text
            await refreshed(app)
        if backend == "postgresql":  # the service's statement timeout holds for the worker too
            async with worker.connect() as connection:
                timeout = (await connection.execute(text("SHOW statement_timeout"))).scalar()
            assert timeout == "7s"
    derived = "INSERT INTO report_referral ("
    if backend == "sqlite":
        assert worker is service
        assert any(derived in s for s in on_service)
    else:
        assert worker is not service
        assert worker.pool.size() == 1
        assert any(derived in s for s in on_worker)
        assert not any(derived in s for s in on_service)
        assert worker.pool.checkedin() == 0  # closed when the service stopped


async def test_the_worker_leaves_the_queue_to_a_newer_release_after_its_migration(
    referral_app, referral_database
):
    """During a rolling deploy the new release's migration may add facts this release does not
    derive: while the database is at a revision this release does not know, its worker takes
    nothing off the queue; back at a known revision, it refreshes again."""
    app = create_app(worker_settings(referral_database))
    engine = referral_app.state.database.engine
    async with engine.connect() as connection:
        (known,) = (await connection.execute(text("SELECT version_num FROM alembic_version"))).one()
    async with running(app, "http://referral.test") as client:
        refresher = app.state.report_facts
        try:
            async with engine.begin() as connection:
                await connection.execute(text("UPDATE alembic_version SET version_num = 'newer'"))
            body = service_request(identifier="AHEAD-1", nhs_number=fresh_nhs_number())
            created = await client.post("/fhir/ServiceRequest", json=body, headers=WRITE)
            assert created.status_code == 201, created.text
            for _ in range(2):  # a whole pass after the write's own
                refresher.nudge()
                await asyncio.wait_for(refresher.next_pass(), timeout=60)  # a guard only
            assert await count_rows(app, "report_change") > 0
            assert await count_rows(app, "report_referral") == 0
        finally:
            async with engine.begin() as connection:
                await connection.execute(
                    text("UPDATE alembic_version SET version_num = :known"), {"known": known}
                )

        async def refreshed() -> None:
            while await count_rows(app, "report_change") or not await count_rows(
                app, "report_referral"
            ):
                refresher.nudge()
                await refresher.next_pass()

        await asyncio.wait_for(refreshed(), timeout=60)


async def test_each_batch_of_a_refresh_stops_at_a_revision_its_release_does_not_know(
    load, referral_app
):
    """A pass that began before a newer release's migration must not go on deriving facts
    after it: each batch checks the revision under the refresh lock (which such a migration
    takes), and a release that does not know it takes nothing off the queue."""
    from referral_api.reports import facts

    d = Dataset()
    d.referral(details=Person())
    await load(d)
    settings = referral_app.state.settings
    keys = (settings.pseudonym_key, settings.disclosure_key)
    database = referral_app.state.database
    assert await facts.refresh(database, *keys, {"an-older-one"}) == 0
    assert await count_rows(referral_app, "report_change") > 0
    assert await count_rows(referral_app, "report_referral") == 0
    assert await facts.refresh(database, *keys, referral_app.state.known_revisions) == 1
    assert await count_rows(referral_app, "report_change") == 0


async def test_the_refresh_command_and_the_facts_it_leaves(load, referral_app, referral_database):
    """The one-shot refresh (`python -m referral_api.reports.facts refresh`) drains the queue."""
    from referral_api.reports import facts

    d = Dataset()
    d.referral(details=Person())
    await load(d)
    assert (
        await asyncio.to_thread(facts.main, ["refresh", "--database-url", referral_database]) == 0
    )
    assert await count_rows(referral_app, "report_change") == 0
    async with referral_app.state.database.engine.connect() as connection:
        refreshed = (await connection.execute(text("SELECT refreshed_at FROM report_state"))).all()
    assert len(refreshed) == 1 and refreshed[0][0] is not None


@pytest.mark.postgres_only
async def test_a_refresh_gives_way_to_a_table_lock_and_runs_again_after(load, referral_app):
    """A refresh meeting a table another transaction holds (a TRUNCATE, a migration) fails at
    once with lock_not_available rather than waiting, so it can never be the side of a deadlock
    that PostgreSQL keeps; the next refresh, once the lock is gone, brings the facts up to date."""
    d = Dataset()
    d.referral(details=Person())
    await load(d)
    refresher = referral_app.state.report_facts
    assert await count_rows(referral_app, "report_change") > 0
    async with referral_app.state.database.engine.connect() as holder:
        # The referrals the facts are derived from (a TRUNCATE of them takes this lock).
        await holder.execute(text("LOCK TABLE referral IN ACCESS EXCLUSIVE MODE"))
        # A guard against a refresh that waits for the lock, not a speed assertion.
        with pytest.raises(DBAPIError) as refused:
            await asyncio.wait_for(refresher.refresh(), timeout=60)
        await holder.rollback()
    assert getattr(refused.value.orig, "sqlstate", None) == "55P03"
    assert await refresher.refresh() > 0
    assert await count_rows(referral_app, "report_change") == 0


@pytest.mark.postgres_only
async def test_a_report_reads_one_read_only_snapshot_with_the_report_planner_settings(
    load, referral_app: FastAPI
):
    """Every statement of a report request runs in one read-only REPEATABLE READ transaction
    (its totals and groups count the same facts while the worker commits; a write would be
    refused) with `report_planner_settings` set for that transaction."""
    d = Dataset()
    d.referral(details=Person())
    await load(d)
    await referral_app.state.report_facts.refresh()
    begun: list[dict[str, Any]] = []

    def on_begin(connection: Any) -> None:
        begun.append(dict(connection.get_execution_options()))

    engine = referral_app.state.database.engine
    event.listen(engine.sync_engine, "begin", on_begin)
    try:
        async with unrefreshed_client(referral_app, "http://referral.test") as client:
            with statements(engine) as seen:
                answer = await client.get(
                    "/reports/referrals", params={"group_by": "gender"}, headers=UNSUPPRESSED
                )
    finally:
        event.remove(engine.sync_engine, "begin", on_begin)
    assert answer.status_code == 200
    assert [(o.get("isolation_level"), o.get("postgresql_readonly")) for o in begun] == [
        ("REPEATABLE READ", True)
    ]
    assert "set_config" in seen[0] and len(seen) > 2  # first, then the report's own reads


async def test_a_report_refused_before_it_reads_runs_no_statement(referral_app: FastAPI):
    """No token, or a parameter it does not take: refused without a connection or a
    transaction (the pool writes share is not spent on requests that read nothing)."""
    async with unrefreshed_client(referral_app, "http://referral.test") as client:
        with statements(referral_app.state.database.engine) as seen:
            anonymous = await client.get("/reports/referrals", headers={"Authorization": ""})
            unknown = await client.get(
                "/reports/referrals", params={"group_by": "shoe-size"}, headers=UNSUPPRESSED
            )
    assert (anonymous.status_code, unknown.status_code) == (401, 400)
    assert seen == []


def test_the_report_planner_settings_are_named_pairs_of_planner_settings_only(monkeypatch):
    monkeypatch.setenv("REFERRAL_REPORT_PLANNER_SETTINGS", "work_mem=64MB, jit = off")
    assert ReferralSettings().report_planner_settings == {"work_mem": "64MB", "jit": "off"}
    monkeypatch.setenv("REFERRAL_REPORT_PLANNER_SETTINGS", '{"max_parallel_workers_per_gather": 4}')
    assert ReferralSettings().report_planner_settings == {"max_parallel_workers_per_gather": "4"}
    # Not a planner setting: refused at startup, not sent to the database with every report.
    monkeypatch.setenv(
        "REFERRAL_REPORT_PLANNER_SETTINGS", "work_mem=64MB,default_transaction_read_only=off"
    )
    with pytest.raises(ValueError, match="default_transaction_read_only"):
        ReferralSettings()
    # A value PostgreSQL would refuse fails at startup, not every report.
    for refused in ("work_mem=lots", "work_mem=", "work_mem=32KB", "work_mem=8kB", "jit=maybe"):
        monkeypatch.setenv("REFERRAL_REPORT_PLANNER_SETTINGS", refused)
        with pytest.raises(ValueError, match=r"work_mem|jit"):
            ReferralSettings()
    monkeypatch.setenv("REFERRAL_REPORT_PLANNER_SETTINGS", '{"work_mem": null}')
    with pytest.raises(ValueError, match="work_mem"):
        ReferralSettings()
