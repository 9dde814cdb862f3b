"""The report facts follow every write: through messages, the REST API, deletions, and the
triggers that queue changed referrals, on both backends."""

import re
from datetime import date
from sqlite3 import SQLITE_LIMIT_VARIABLE_NUMBER
from typing import Any

import pytest
import sqlalchemy
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import Column, Subquery, Table, event, literal_column, select, text
from sqlalchemy.orm import Session
from sqlalchemy.sql import visitors
from sqlalchemy.sql.elements import ColumnClause
from sqlalchemy.util import await_only

from referral_api.geography.load import replace_postcodes, sample_rows
from referral_api.reports import facts, matching
from referral_api.reports.dimensions import SPECS
from referral_api.reports.expressions import month_of_day
from referral_api.reports.facts_repository import (
    ACTIVITY_TOTALS,
    MONTHLY_COUNTS,
    REASON_MONTHS,
    REFERRAL_MONTHS,
    SUPPORT_MONTHS,
    WAIT_MONTHS,
    FactRepository,
    MonthlyCounts,
)
from referral_api.reports.measures import MEASURES
from referral_api.reports.repository import counted
from signpost_platform.db import Database
from signpost_schemas.disclosure import RecordKeys
from tests.reports.conftest import UNSUPPRESSED
from tests.support.clients import bearer
from tests.support.messages import journey
from tests.support.reports import CODE_A, NO_SOURCE, Dataset, Person, unmapped
from tests.support.rows import count_rows, execute_sql, fetch_rows

WORKER = "https://emis.example/Id/staff|LW-1"
OTHER_WORKER = "https://rio.example/Id/staff|CN-1"
WATCHED = (
    "referral",
    "referral_reason",
    "referral_person",
    "referral_lifecycle",
    "support_offered",
    "contact",
    "assessment",
    "referral_link",
    "assessment_score",
    "service_use",
    "contact_worker",
    "referral_task",
    "referral_gap",
)


async def test_every_watched_table_has_its_change_triggers(referral_app: FastAPI):
    """A migration that rebuilds one of these tables (SQLite batch mode does) must recreate
    the triggers, or reports would silently stop following that table."""
    if referral_app.state.database.engine.dialect.name == "postgresql":
        rows = await fetch_rows(
            referral_app,
            "SELECT DISTINCT event_object_table AS name FROM information_schema.triggers "
            "WHERE trigger_name = 'report_change'",
        )
    else:
        rows = await fetch_rows(
            referral_app,
            "SELECT DISTINCT tbl_name AS name FROM sqlite_master WHERE type = 'trigger' "
            "AND name LIKE 'report_change_%'",
        )
    assert {row["name"] for row in rows} == set(WATCHED)


# Normalised columns the refresh reads that no fact depends on, and tables it reads that no
# trigger watches, each with the reason nothing is lost.
NOT_FACTS = {
    ("referral", "id"): "a key: inserts and deletes are watched, it never changes",
    ("referral", "version"): "kept in report_person as the version a pseudonym was keyed from",
}
LOOKUPS = {
    "practice_pcn": "loading the practice-to-PCN lookup queues the referrals it gives a PCN",
    "lsoa_imd": "loading the IMD lookup updates the decile of every fact",
}


async def _installed_triggers(app: FastAPI) -> dict[str, dict[str, set[str] | None]]:
    """Per watched table and event (INSERT, UPDATE, DELETE), the columns an UPDATE trigger is
    limited to (None: any column), as the migrated database has them."""
    found: dict[str, dict[str, set[str] | None]] = {}
    if app.state.database.engine.dialect.name == "postgresql":
        for row in await fetch_rows(
            app,
            "SELECT event_object_table AS name, event_manipulation AS event "
            "FROM information_schema.triggers WHERE trigger_name = 'report_change'",
        ):
            found.setdefault(row["name"], {})[row["event"]] = None
        for row in await fetch_rows(
            app,
            "SELECT event_object_table AS name, event_object_column AS col "
            "FROM information_schema.triggered_update_columns "
            "WHERE trigger_name = 'report_change'",
        ):
            limited = found[row["name"]]
            limited["UPDATE"] = (limited["UPDATE"] or set()) | {row["col"]}
        return found
    shape = re.compile(r"AFTER (INSERT|UPDATE|DELETE)(?: OF ([\w, ]+?))? ON (\w+)", re.I)
    for row in await fetch_rows(
        app,
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'report_change_%'",
    ):
        matched = shape.search(row["sql"])
        assert matched, row["sql"]
        event_name, columns, table = matched.groups()
        found.setdefault(table, {})[event_name.upper()] = (
            {c.strip() for c in columns.split(",")} if columns else None
        )
    return found


def _columns_read_by(statement: Any) -> set[tuple[str, str]]:
    """Every column of a table outside the report tables that a statement or an expression
    reads, through the aliases and subqueries it names."""
    read: set[tuple[str, str]] = set()
    pending = [statement]
    while pending:
        for element in visitors.iterate(pending.pop()):
            if isinstance(element, ColumnClause) and isinstance(element.table, Subquery):
                pending.append(element.table.element)  # a subquery: what it selects
            elif isinstance(element, Column) and element.table is not None:
                table = element.table
                while not isinstance(table, Table) and hasattr(table, "element"):
                    table = table.element  # an alias: the table it names
                if isinstance(table, Table) and not table.name.startswith("report_"):
                    read.add((table.name, element.name))
    return read


async def _columns_the_measures_read(app: FastAPI) -> dict[str, set[tuple[str, str]]]:
    """Per declared measure, the columns its expression reads (`reports.measures`)."""
    async with app.state.database.sessionmaker() as session:
        sources = FactRepository(session).fact_sources(
            None, matching.support_groups_for(), RecordKeys.of("any key")
        )
    return {spec.column: _columns_read_by(spec.value(sources)) for spec in MEASURES}


async def _columns_the_refresh_reads(app: FastAPI) -> set[tuple[str, str]]:
    """Every column of a table outside the report tables that the statements of a rebuild
    (the same statements as a refresh, for every referral) read."""
    read: set[tuple[str, str]] = set()
    engine = app.state.database.engine.sync_engine

    def collect(state: Any) -> None:
        if state.session.get_bind() is not engine:  # another app's session (a worker's)
            return
        read.update(_columns_read_by(state.statement))

    event.listen(Session, "do_orm_execute", collect)
    try:
        await facts.rebuild(
            app.state.database.sessionmaker,
            app.state.settings.pseudonym_key,
            app.state.settings.disclosure_key,
        )
    finally:
        event.remove(Session, "do_orm_execute", collect)
    return read


async def test_every_column_a_fact_is_derived_from_is_watched_by_the_triggers(load, referral_app):
    """A dimension or measure read from a column the `report_change` triggers do not watch
    would go stale when that column changes, with no other test failing: the columns come
    from the refresh's own statements, the watched ones from the migrated database."""
    d = Dataset()
    d.referral(details=Person())
    await load(d)
    read = await _columns_the_refresh_reads(referral_app)
    assert ("referral_person", "age_band") in read and ("contact", "attendance_outcome") in read
    # Every declared dimension's source and every column a declared measure's expression
    # reads is one of them (the specs say where values come from).
    declared = {tuple(spec.source.split(".")) for spec in SPECS}
    assert declared <= read, declared - read
    measured = await _columns_the_measures_read(referral_app)
    # Seen through an alias of `referral`, and through the contact counts' subquery.
    assert ("referral", "person_key") in measured["shared_person"]
    assert ("contact", "attendance_outcome") in measured["dna"]
    for measure, columns in measured.items():
        assert columns <= read, (measure, columns - read)
    triggers = await _installed_triggers(referral_app)
    unwatched = []
    for table, column in sorted(read):
        if (table, column) in NOT_FACTS or table in LOOKUPS:
            continue
        events = triggers.get(table, {})
        limited = events.get("UPDATE", set())
        if (
            "INSERT" not in events
            or "DELETE" not in events
            or "UPDATE" not in events
            or (limited is not None and column not in limited)
        ):
            unwatched.append(f"{table}.{column}")
    assert unwatched == [], (
        "report facts are derived from columns the report_change triggers do not watch: add "
        "them in a migration that recreates the triggers (CONTRIBUTING.md, new dimension or "
        "measure)"
    )


async def test_a_referral_through_messages_is_reported_end_to_end(lookups: FastAPI, client):
    async with lookups.state.database.sessionmaker() as session, session.begin():
        await replace_postcodes(session, sample_rows(), "sample", is_sample=True)
    write = bearer("referral:write", "referral:read", "referral:all-organisations")
    for message in journey("emis"):
        response = await client.post("/fhir/$process-message", json=message, headers=write)
        assert response.status_code == 200, response.text

    async def fetch(name: str, **params: str) -> dict:
        response = await client.get(f"/reports/{name}", params=params, headers=UNSUPPRESSED)
        assert response.status_code == 200, response.text
        return response.json()

    referrals = (await fetch("referrals", group_by="pcn"))["totals"][0]
    assert (referrals["referrals"], referrals["people"]) == (1, 1)
    reasons = {r["reason"] for r in (await fetch("reasons"))["rows"]}
    assert reasons == {"105531004", "160932005"}
    waits = (await fetch("waiting-times"))["totals"][0]
    # Referred 1 October, missed 3 October, first attended 5 October, closed 20 November.
    assert (waits["first_contact_median"], waits["closure_median"]) == (4.0, 50.0)
    attendance = (await fetch("attendance"))["totals"][0]
    assert (attendance["contacts"], attendance["dna"], attendance["dna_rate"]) == (3, 1, 33.3)
    support = {r["support"]: r["onward_referrals"] for r in (await fetch("support"))["rows"]}
    assert support == {"housing-advice": 1, "benefits-welfare-advice": 0}
    match = (await fetch("support-match"))["totals"][0]
    assert (match["with_support"], match["matched"]) == (1, 1)
    # Offered support while open, then closed: its support facts follow its status.
    by_support = (await fetch("outcomes", group_by="support-group"))["rows"]
    assert {r["support_group"]: r["closed"] for r in by_support} == {"housing": 1, "finance": 1}
    wellbeing = (await fetch("wellbeing"))["rows"][0]
    assert (wellbeing["measure"], wellbeing["mean_change"]) == ("wemwbs", 9.0)
    closure = (await fetch("closure-reasons"))["rows"][0]
    assert (closure["code"], closure["outcome"]) == ("needs-met", "completed")
    completeness = {r["field"]: r["complete"] for r in (await fetch("completeness"))["rows"]}
    assert completeness["lsoa"] == 1 and completeness["practice"] == 1
    source = (await fetch("referrals", group_by="source-system"))["rows"][0]["source_system"]
    assert source == "emis"


async def test_facts_follow_new_changed_and_deleted_referrals(load, referral_app, report):
    d = Dataset()
    kept = d.referral(details=Person())
    gone = d.referral(details=Person())
    await load(d)
    assert (await report("referrals", unsuppressed=True))["totals"][0]["referrals"] == 2
    async with referral_app.state.database.engine.begin() as connection:
        await connection.execute(
            text("UPDATE referral_person SET gender = 'male' WHERE referral_id = :id"),
            {"id": kept},
        )
        await connection.execute(text("DELETE FROM referral WHERE id = :id"), {"id": gone})
    body = await report("referrals", unsuppressed=True, group_by="gender")
    assert [(r["gender"], r["referrals"]) for r in body["rows"]] == [("male", 1)]
    assert await count_rows(referral_app, "report_change") == 0
    assert await count_rows(referral_app, "report_referral") == 1


async def test_worker_and_service_use_facts_follow_tasks_contact_workers_and_counts(
    load, referral_app, report
):
    """The workers and service-use reports read facts too: a Task given a new owner, a
    contact's worker removed and a count entered in error each reach them at the next
    refresh (the referral itself is not written)."""
    first, second = "https://emis.example/Id/staff|A-1", "https://emis.example/Id/staff|B-2"
    d = Dataset()
    held = d.referral(authored="2026-01-05")
    d.held_by(held, first)
    seen = d.referral(authored="2026-01-05")
    d.contacts(seen, "attended", workers=((first, None),))
    d.service_use(seen, "gp-appointments", before=4, after=2)
    await load(d)

    def workers_of(body: dict[str, Any]) -> dict[str, tuple[int, int]]:
        return {r["worker"]: (r["caseload"], r["contacts"]) for r in body["rows"]}

    body = await report("workers", unsuppressed=True, group_by="worker")
    assert workers_of(body) == {first: (2, 1)}
    assert (await report("service-use", unsuppressed=True))["rows"][0]["pairs"] == 1
    async with referral_app.state.database.engine.begin() as connection:
        await connection.execute(
            text("UPDATE referral_task SET owner_value = 'B-2' WHERE referral_id = :id"),
            {"id": held},
        )
        await connection.execute(
            text("DELETE FROM contact_worker WHERE referral_id = :id"), {"id": seen}
        )
        await connection.execute(
            text("UPDATE service_use SET status = 'entered-in-error' WHERE referral_id = :id"),
            {"id": seen},
        )
    body = await report("workers", unsuppressed=True, group_by="worker")
    assert workers_of(body) == {second: (1, 0)}
    assert (await report("service-use", unsuppressed=True))["rows"] == []
    assert await count_rows(referral_app, "report_change") == 0


async def test_a_rebuild_gives_the_same_reports_as_the_refreshes(load, referral_app, report):
    d = Dataset()
    for index in range(12):
        a = d.referral(
            details=Person(age_band="25-34" if index % 2 else "45-54"),
            reasons=("105531004", "160932005") if index % 3 else ("422650009",),
            status="closed",
            first_contact_days=index,
            ended_days=30 + index,
            closure_reason="needs-met",
        )
        d.support(a, "housing-advice" if index % 2 else "diet-healthy-eating")
        d.contacts(a, "attended", "dna" if index % 4 == 0 else "attended")
    await load(d)
    names = (
        "referrals",
        "reasons",
        "reason-pairs",
        "support-match",
        "waiting-times",
        "attendance",
        "completeness",
    )
    before = [await report(n, unsuppressed=True, group_by="age-band") for n in names]
    quality_before = await report("data-quality", unsuppressed=True)
    # Counts a rebuild sums again from the referrals' flags, not from what was there.
    async with referral_app.state.database.engine.begin() as connection:
        await connection.execute(text("DELETE FROM report_quality_day"))
        await connection.execute(text("DELETE FROM report_quality_month"))
    rebuilt = await facts.rebuild(
        referral_app.state.database.sessionmaker,
        referral_app.state.settings.pseudonym_key,
        referral_app.state.settings.disclosure_key,
    )
    assert rebuilt == 12
    after = [await report(n, unsuppressed=True, group_by="age-band") for n in names]
    assert after == before
    quality_after = await report("data-quality", unsuppressed=True)
    assert quality_after["rows"] == quality_before["rows"]
    assert quality_after["totals"][0]["referrals"] == 12


async def test_a_rebuild_sets_the_previous_months_the_refreshes_set(load, referral_app):
    """Each person's previous month per breakdown (docs/reports.md), on the referral facts and
    the reason facts' group rows: the same after one rebuild as after the refreshes, and what
    the definition gives for a person referred four times."""
    d = Dataset()
    east = Person(practice="F84001", pcn="U00001")
    west = Person(practice="F84003", pcn="U00002")
    visits = (
        ("2026-01-10", "social-prescribing-link-worker", ("105531004",), east),
        ("2026-01-20", "care-navigator", ("105531004", "160932005"), west),
        ("2026-03-02", "social-prescribing-link-worker", ("160932005",), east),
        ("2026-03-09", "care-navigator", ("422650009",), east),
    )
    anns = []
    for authored, role, reasons, details in visits:
        visit = d.referral(
            authored=authored, person="ann", role=role, reasons=reasons, details=details
        )
        d.service_use(visit, "gp-appointments", before=3, after=1)
        anns.append(visit)
    d.referral(authored="2026-02-01", person="bob")
    await load(d)
    assert await referral_app.state.report_facts.refresh() == 5
    referral_sql = (
        "SELECT authored_on, previous_month, previous_month_by_month, previous_month_by_role, "
        "previous_month_by_pcn_role, previous_month_by_practice FROM report_referral "
        "ORDER BY authored_on"
    )
    reason_sql = (
        "SELECT r.authored_on, c.value AS reason_group, r.previous_month_by_reason_group "
        "FROM report_reason r JOIN report_code c ON c.code = r.reason_group "
        "AND c.dimension = 'reason-group' WHERE r.group_first = 1 "
        "ORDER BY r.authored_on, c.value"
    )
    use_sql = (
        "SELECT authored_on, previous_month, previous_month_by_role FROM report_service_use "
        "ORDER BY authored_on"
    )
    use_reason_sql = (
        "SELECT u.authored_on, c.value AS reason_group, u.use_first, u.previous_month, "
        "u.previous_month_by_reason_group, u.previous_month_by_role_reason_group "
        "FROM report_service_use_reason u JOIN report_code c ON c.code = u.reason_group "
        "AND c.dimension = 'reason-group' ORDER BY u.authored_on, c.value"
    )
    statements = (referral_sql, reason_sql, use_sql, use_reason_sql)
    refreshed = tuple([await fetch_rows(referral_app, sql) for sql in statements])
    january, march = month_of_day(date(2026, 1, 1)), month_of_day(date(2026, 3, 1))
    # (previous month: of any group, by month, by role, by PCN and role, by practice)
    assert [tuple(row.values())[1:] for row in refreshed[0]] == [
        (None, None, None, None, None),
        (january, january, None, None, None),  # another role, PCN and practice
        (None, None, None, None, None),  # Bob, referred once
        (january, None, january, january, january),
        (march, march, january, None, march),  # her first as a navigator in the east PCN
    ]
    by_group: dict[str, list[int | None]] = {}
    for row in refreshed[1]:
        by_group.setdefault(row["reason_group"], []).append(row["previous_month_by_reason_group"])
    assert by_group["housing"] == [None, january, None]  # Ann twice in January, then Bob
    assert all(months[0] is None for months in by_group.values())
    # Service use, per measure: of any group, and by role.
    assert [tuple(row.values())[1:] for row in refreshed[2]] == [
        (None, None),
        (january, None),
        (january, january),
        (march, january),
    ]
    # By reason group: each pair once per group of its referral, the first marked.
    use_by_group = [tuple(row.values())[1:] for row in refreshed[3]]
    assert len(use_by_group) == len(refreshed[1]) - 1  # Bob has no service use
    assert [row[1] for row in use_by_group] == [1, 0, 1, 1, 1]  # not on her second group
    assert [row[2] for row in use_by_group] == [None, january, january, january, march]
    assert by_group["housing"][:2] == [row[3] for row in use_by_group if row[0] == "housing"]

    # A count of one of Ann's referrals changes: a refresh derives it and her other referrals
    # again, all of their facts.
    await execute_sql(
        referral_app,
        "UPDATE service_use SET count = count + 1 WHERE referral_id = :id AND period = 'after'",
        id=anns[1],
    )
    assert await referral_app.state.report_facts.refresh() == 4
    assert tuple([await fetch_rows(referral_app, sql) for sql in statements]) == refreshed

    await facts.rebuild(
        referral_app.state.database.sessionmaker,
        referral_app.state.settings.pseudonym_key,
        referral_app.state.settings.disclosure_key,
    )
    rebuilt = tuple([await fetch_rows(referral_app, sql) for sql in statements])
    assert rebuilt == refreshed


@pytest.mark.parametrize("command", ["refresh", "rebuild"])
async def test_the_facts_command(load, referral_database, command):
    import asyncio

    d = Dataset()
    d.referral(details=Person())
    await load(d)
    assert await asyncio.to_thread(facts.main, [command, "--database-url", referral_database]) == 0


async def test_people_stay_right_when_a_referral_moves_to_another_person(
    load, referral_app, report
):
    """Ann's two referrals count as one person; once one is corrected to Bob's NHS number,
    the facts of both people's referrals are derived again: two people."""
    d = Dataset()
    first = d.referral(person="ann", details=Person())
    d.referral(person="ann", details=Person())
    d.referral(person="bob", details=Person())
    await load(d)
    assert (await report("referrals", unsuppressed=True))["totals"][0]["people"] == 2
    async with referral_app.state.database.engine.begin() as connection:
        await connection.execute(
            text("UPDATE referral SET nhs_number = :nhs, person_key = :nhs WHERE id = :id"),
            {"nhs": d.nhs_number("bob"), "id": first},
        )
    body = await report("referrals", unsuppressed=True)
    assert (body["totals"][0]["referrals"], body["totals"][0]["people"]) == (3, 2)
    async with referral_app.state.database.engine.begin() as connection:
        await connection.execute(
            text("UPDATE referral SET nhs_number = :nhs, person_key = :nhs WHERE id = :id"),
            {"nhs": d.nhs_number("cat"), "id": first},
        )
    assert (await report("referrals", unsuppressed=True))["totals"][0]["people"] == 3


async def _counts_in_step(app: FastAPI, counts: MonthlyCounts) -> list[dict[str, Any]]:
    """The monthly counts, checked against their facts summed afresh, in key order."""
    summed_afresh = select(
        *(value.label(name) for name, value in counts.keys.items()),
        *(
            column
            for name, value in counts.counts.items()
            for column in counted(name, counts.facts, value)
        ),
    ).group_by(*counts.keys.values())

    def in_order(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return sorted(rows, key=lambda row: [repr(row[name]) for name in counts.keys])

    rows = in_order(await fetch_rows(app, select(counts.table)))
    assert rows == in_order(await fetch_rows(app, summed_afresh)), counts.table.name
    return rows


async def _moved_unrefreshed(app: FastAPI, referral_id: str, nhs_number: str) -> None:
    """The referral corrected to another person's NHS number, its queue entry not refreshed
    yet (a later batch's, or the move committed after the queue was read): none is queued."""
    await execute_sql(
        app,
        "UPDATE referral SET nhs_number = :nhs, person_key = :nhs WHERE id = :id",
        nhs=nhs_number,
        id=referral_id,
    )
    await execute_sql(app, "DELETE FROM report_change")


async def test_a_referral_moved_to_another_person_leaves_its_former_person_counted(
    load, referral_app, report
):
    """Ann's January referral is corrected to Bob's NHS number, and Bob's own referral is
    refreshed first, in a batch of its own (a backlog's order, or the move committed after the
    queue was read): that batch derives the moved referral as Bob's, and with it Ann's other
    referral, which is now her only one. Counted from January, Ann is still one person."""
    d = Dataset()
    moved = d.referral(authored="2026-01-10", person="ann")
    d.referral(authored="2026-03-10", person="ann")
    bob = d.referral(authored="2026-02-10", person="bob")
    await load(d)
    january = {"from": "2026-01-01"}
    assert (await report("referrals", unsuppressed=True, **january))["totals"][0]["people"] == 2
    await _moved_unrefreshed(referral_app, moved, d.nhs_number("bob"))
    await execute_sql(referral_app, "INSERT INTO report_change (referral_id) VALUES (:id)", id=bob)
    assert await referral_app.state.report_facts.refresh() == 3  # Bob's two, and Ann's other
    async with referral_app.state.database.engine.begin() as connection:
        await connection.execute(
            text("INSERT INTO report_change (referral_id) VALUES (:id)"), {"id": moved}
        )
    body = await report("referrals", unsuppressed=True, **january)
    assert (body["totals"][0]["referrals"], body["totals"][0]["people"]) == (3, 2)
    by_month = await report("referrals", unsuppressed=True, group_by="month", **january)
    assert [(r["month"], r["people"]) for r in by_month["rows"]] == [
        ("2026-01", 1),
        ("2026-02", 1),
        ("2026-03", 1),
    ]


async def test_a_refresh_derives_the_person_facts_of_other_referrals_but_keeps_the_rest(
    load, referral_app
):
    """When one of Ann's referrals changes, her other referral's facts that depend on her
    (the referral facts and their copies) are derived again; its workers' activity,
    data-quality and unmapped-code facts, which do not, are kept as they were."""
    d = Dataset()
    changed = d.referral(person="ann", details=Person())
    other = d.referral(person="ann", details=Person())
    d.gaps(other, NO_SOURCE, unmapped(0, CODE_A))
    d.held_by(other, "https://emis.example/Id/staff|A-1")
    await load(d)
    assert await referral_app.state.report_facts.refresh() == 2
    marked = (
        "UPDATE report_referral SET person_key = 0 WHERE referral_key = :key",
        "UPDATE report_quality SET no_source = 7 WHERE referral_key = :key",
        "UPDATE report_activity SET outcome = 9 WHERE referral_key = :key",
        "UPDATE report_unmapped SET record_key = -7 WHERE referral_key = :key",
    )
    read = (
        "SELECT f.person_key, q.no_source, a.outcome, u.record_key FROM report_referral f "
        "JOIN report_quality q ON q.referral_key = f.referral_key "
        "JOIN report_activity a ON a.referral_key = f.referral_key "
        "JOIN report_unmapped u ON u.referral_key = f.referral_key "
        "WHERE f.referral_key = :key"
    )
    async with referral_app.state.database.engine.begin() as connection:
        result = await connection.execute(text("SELECT referral_id, referral_key FROM report_key"))
        keys = {row[0]: row[1] for row in result}
        person = (await connection.execute(text(read), {"key": keys[other]})).one()[0]
        for statement in marked:
            await connection.execute(text(statement), {"key": keys[other]})
        await connection.execute(
            text("UPDATE referral SET requester_ods = 'B82005' WHERE id = :id"), {"id": changed}
        )

    assert await referral_app.state.report_facts.refresh() == 2
    async with referral_app.state.database.engine.connect() as connection:
        assert tuple((await connection.execute(text(read), {"key": keys[other]})).one()) == (
            person,  # derived again: the person key both referrals share
            7,  # kept, as the three below
            9,
            -7,
        )


REFERRAL_ONLY = (
    "report_key",
    "report_activity",
    "report_activity_total",
    "report_quality",
    "report_unmapped",
    "report_quality_day",
    "report_quality_month",
)


async def test_a_sibling_deleted_after_a_batch_began_leaves_nothing_behind(
    load, referral_app, monkeypatch
):
    """Ann's referral changes and her other referral is deleted; the change is refreshed in a
    batch of its own (the deletion's queue entries in later batches, as when the queue holds
    more than a batch or the delete commits while the batch runs). The deleted referral's
    activity, data-quality and unmapped-code facts and its key are gone afterwards, as a
    rebuild leaves them: found through its key when its own entries are refreshed."""
    d = Dataset()
    changed = d.referral(person="ann", details=Person(), source_system="emis", sender="F84001")
    gone = d.referral(person="ann", details=Person(), source_system="emis", sender="F84001")
    d.gaps(gone, NO_SOURCE, unmapped(0, CODE_A))
    d.held_by(gone, "https://emis.example/Id/staff|A-1")
    await load(d)
    await referral_app.state.report_facts.refresh()
    async with referral_app.state.database.engine.begin() as connection:
        await connection.execute(
            text("UPDATE referral SET requester_ods = 'B82005' WHERE id = :id"), {"id": changed}
        )
    async with referral_app.state.database.engine.begin() as connection:
        await connection.execute(text("DELETE FROM referral WHERE id = :id"), {"id": gone})
    monkeypatch.setattr(facts, "BATCH", 1)

    async def rows() -> dict[str, list[tuple[Any, ...]]]:
        async with referral_app.state.database.engine.connect() as connection:
            return {
                name: sorted(
                    (
                        tuple(row)
                        for row in await connection.execute(
                            select(literal_column("*")).select_from(sqlalchemy.table(name))
                        )
                    ),
                    key=repr,
                )
                for name in REFERRAL_ONLY
            }

    await referral_app.state.report_facts.refresh()
    refreshed = await rows()
    assert len(refreshed["report_key"]) == 1
    await facts.rebuild(
        referral_app.state.database.sessionmaker,
        referral_app.state.settings.pseudonym_key,
        referral_app.state.settings.disclosure_key,
    )
    assert refreshed == await rows()


async def test_the_monthly_counts_follow_the_facts(load, referral_app):
    """The refresh keeps the monthly counts (`MONTHLY_COUNTS`) as it replaces facts: always
    the pair facts summed per month, role, level and pair, the referral facts (referrals,
    several reasons and groups, the completeness and attendance counts) per month, role,
    source system and status, and the reason and support facts likewise; a count that falls
    to 0 is dropped."""
    housing, homeless, isolation = "105531004", "32911000", "422650009"
    d = Dataset()
    a = d.referral(
        authored="2026-01-05",
        reasons=(housing, homeless, isolation),
        status="closed",
        first_contact_days=3,
        ended_days=9,
    )
    d.contacts(a, "attended", "dna", workers=((WORKER, None),))
    d.support(a, "housing-advice", "diet-healthy-eating")
    b = d.referral(authored="2026-01-20", reasons=(housing, homeless, isolation))
    d.held_by(b, WORKER)
    c = d.referral(
        authored="2026-02-03",
        role="care-navigator",
        reasons=(housing, isolation),
        source_system="rio",
        status="accepted",
    )
    d.contacts(c, "attended", workers=((WORKER, None), (OTHER_WORKER, "care-navigator")))
    await load(d)
    assert await referral_app.state.report_facts.refresh() == 3
    key = "month, role, level, first, second"
    summed_sql = (
        f"SELECT {key}, count(*) AS referrals, sum(record_key) AS referrals_cell_key "  # noqa: S608
        f"FROM report_reason_pair GROUP BY {key} ORDER BY {key}"
    )
    kept_sql = (
        f"SELECT {key}, referrals, referrals_cell_key "  # noqa: S608
        f"FROM report_reason_pair_month ORDER BY {key}"
    )

    async def in_step(counts: MonthlyCounts) -> list[dict[str, Any]]:
        return await _counts_in_step(referral_app, counts)

    async def referral_months():
        reasons = await in_step(REASON_MONTHS)
        # Each reason row once, and each referral's groups once: at first two referrals with
        # three reasons in two groups and one with two reasons in two groups.
        assert sum(row["reasons"] for row in reasons) == reason_rows
        assert sum(row["group_first"] for row in reasons) == group_rows
        support = await in_step(SUPPORT_MONTHS)
        assert [(row["supports"], row["offers"]) for row in support] == [(1, 1), (1, 1)]
        for counts in MONTHLY_COUNTS:  # every table of monthly counts, the others too
            await in_step(counts)
        # The workers' totals: a row per role, worker and outcome while their referrals last.
        assert len(await in_step(ACTIVITY_TOTALS)) == activity_rows
        waits = await in_step(WAIT_MONTHS)
        # January's closed referral waited 3 days for its first contact and 9 for closure.
        assert {(row["wait"], row["days"]) for row in waits if row["wait"]} == {(1, 3), (2, 9)}
        return await in_step(REFERRAL_MONTHS)

    # The worker's attended and did-not-attend contacts and referral held (no outcome) as a
    # link worker, and both workers' attended contact as navigators.
    reason_rows, group_rows, activity_rows = 8, 6, 5
    counts = ("referrals", "several", "several_groups", "contacts", "dna", "has_closure_reason")
    assert [tuple(r[n] for n in counts) for r in await referral_months()] == [
        (1, 1, 1, 2, 1, 0),  # January's closed referral (no closure reason recorded)
        (1, 1, 1, 0, 0, 0),  # January's received one
        (1, 1, 1, 1, 0, 0),  # February's, from Rio
    ]
    kept = await fetch_rows(referral_app, kept_sql)
    assert kept == await fetch_rows(referral_app, summed_sql)
    # January's link workers: three pairs of reasons and one of groups, each twice;
    # February's navigators: one of each.
    assert sorted(row["referrals"] for row in kept) == [1, 1, 2, 2, 2, 2]

    await execute_sql(
        referral_app,
        "DELETE FROM referral_reason WHERE reason_code = :code AND referral_id IN (:b, :c)",
        code=isolation,
        b=b,
        c=c,
    )
    assert await referral_app.state.report_facts.refresh() == 2
    reason_rows, group_rows = 6, 4
    kept = await fetch_rows(referral_app, kept_sql)
    assert kept == await fetch_rows(referral_app, summed_sql)
    # Bob's reasons are both housing now: one pair of reasons, none of groups. February's are
    # dropped at 0.
    assert sorted(row["referrals"] for row in kept) == [1, 1, 1, 2]
    assert [tuple(r[n] for n in counts) for r in await referral_months()] == [
        (1, 1, 1, 2, 1, 0),
        (1, 1, 0, 0, 0, 0),  # Bob's reasons are in one group now
        (1, 0, 0, 1, 0, 0),
    ]

    # A referral deleted: its counts go with its facts. Then a rebuild sums the same.
    await execute_sql(referral_app, "DELETE FROM referral WHERE id = :id", id=c)
    assert await referral_app.state.report_facts.refresh() == 1
    reason_rows, group_rows, activity_rows = 5, 3, 3
    after_delete = [await fetch_rows(referral_app, kept_sql), await referral_months()]
    assert after_delete[0] == await fetch_rows(referral_app, summed_sql)
    assert [r["referrals"] for r in after_delete[1]] == [1, 1]  # February's row is gone
    await facts.rebuild(
        referral_app.state.database.sessionmaker,
        referral_app.state.settings.pseudonym_key,
        referral_app.state.settings.disclosure_key,
    )
    assert [await fetch_rows(referral_app, kept_sql), await referral_months()] == after_delete
    assert {row["month"] for row in kept} == {month_of_day(date(2026, 1, 1))}


async def test_a_refresh_after_rekey_keys_records_with_the_new_key(load, referral_app):
    """A refresh's statements are built once per process (`facts_repository.per_batch`): those
    built under one disclosure key must not serve a refresh under the next, after `rekey`."""
    d = Dataset()
    for _ in range(8):  # eight record keys: all eight alike under two keys by chance, never
        d.referral(details=Person())
    await load(d)
    database, settings = referral_app.state.database, referral_app.state.settings
    other = SecretStr("another disclosure key, after a rotation")
    keyed = "SELECT k.referral_id, f.record_key, f.person_tag FROM report_referral f JOIN report_key k ON k.referral_key = f.referral_key ORDER BY 1"  # noqa: E501
    queue = "INSERT INTO report_change (referral_id) SELECT id FROM referral"
    await execute_sql(referral_app, queue)
    assert await facts.refresh(database, settings.pseudonym_key, settings.disclosure_key) == 8
    before = await fetch_rows(referral_app, keyed)

    await facts.rebuild(database.sessionmaker, settings.pseudonym_key, other, rekeyed=True)
    rekeyed = await fetch_rows(referral_app, keyed)
    assert [r["record_key"] for r in rekeyed] != [r["record_key"] for r in before]
    await execute_sql(referral_app, queue)
    assert await facts.refresh(database, settings.pseudonym_key, other) == 8
    assert await fetch_rows(referral_app, keyed) == rekeyed


async def test_a_batch_names_its_referrals_in_one_parameter_on_sqlite(load, referral_app):
    """Stock SQLite allows 32,766 parameters a statement (999 before 3.32), and a refresh's
    statements name the batch's ids several times: 2,000 ids made one of them 36,099
    parameters. A batch's ids are one parameter, and so are the queue entries it takes off
    (up to 2,000), so a refresh of 200 referrals queued six times (thousands of parameters as
    lists) runs on connections allowing 999."""
    if referral_app.state.database.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL takes the ids as one array")
    d = Dataset()
    for _ in range(200):
        d.referral(details=Person())
    await load(d)
    settings = referral_app.state.settings
    database = Database(referral_app.state.database.url)

    @event.listens_for(database.engine.sync_engine, "connect")
    def limited(connection: Any, _record: Any) -> None:
        aiosqlite = connection.driver_connection  # set in the driver's own thread
        await_only(aiosqlite._execute(aiosqlite._conn.setlimit, SQLITE_LIMIT_VARIABLE_NUMBER, 999))

    try:
        for _ in range(6):  # 1,200 queue entries: one batch
            await execute_sql(
                referral_app, "INSERT INTO report_change (referral_id) SELECT id FROM referral"
            )
        assert await facts.refresh(database, settings.pseudonym_key, settings.disclosure_key) == 200
    finally:
        await database.dispose()
    assert await count_rows(referral_app, "report_referral") == 200
    assert await count_rows(referral_app, "report_change") == 0


async def test_a_batch_follows_a_moved_referral_to_its_person_now(load, referral_app):
    """Ann's June referral was corrected to Cat's NHS number, and its own queue entry is not
    refreshed yet (a later batch, or the move committed after the queue was read) when Ann's
    other referral changes. The batch brings the moved referral (Ann's as the facts last saw
    it), and with it Cat's referrals (its person now): its previous month is Cat's May
    referral's, as a rebuild gives, and every table of monthly counts stays in step."""
    d = Dataset()
    changed = d.referral(authored="2026-01-10", person="ann")
    moved = d.referral(authored="2026-06-10", person="ann")
    d.referral(authored="2026-03-10", person="cat")
    d.referral(authored="2026-05-10", person="cat")
    await load(d)
    assert await referral_app.state.report_facts.refresh() == 4
    await _moved_unrefreshed(referral_app, moved, d.nhs_number("cat"))
    await execute_sql(
        referral_app, "UPDATE referral SET requester_ods = 'B82005' WHERE id = :id", id=changed
    )
    assert await referral_app.state.report_facts.refresh() == 4  # Ann's two and Cat's two
    previous = (
        "SELECT k.referral_id, f.shared_person, f.previous_month, f.previous_month_by_role "
        "FROM report_referral f JOIN report_key k ON k.referral_key = f.referral_key "
        "ORDER BY k.referral_id"
    )
    refreshed = await fetch_rows(referral_app, previous)
    assert next(r for r in refreshed if r["referral_id"] == moved)["previous_month"] is not None
    for counts in MONTHLY_COUNTS:
        await _counts_in_step(referral_app, counts)
    await facts.rebuild(
        referral_app.state.database.sessionmaker,
        referral_app.state.settings.pseudonym_key,
        referral_app.state.settings.disclosure_key,
    )
    assert refreshed == await fetch_rows(referral_app, previous)


async def test_a_refresh_analyses_the_tables_that_grew_by_half_since_last_analysed(
    load, referral_app
):
    """A table that has grown past its planner statistics (as after a burst of writes, before
    autovacuum comes round) is analysed by the next refresh; one that changed little is not."""
    database = referral_app.state.database
    postgresql = database.engine.dialect.name == "postgresql"
    grown, steady = "report_code", "report_reason"
    count = "SELECT analyze_count FROM pg_stat_user_tables WHERE relname = :name"

    async def analysed(name: str) -> int:
        async with database.engine.connect() as connection:
            return (await connection.execute(text(count), {"name": name})).scalar_one()

    if postgresql:
        async with database.engine.begin() as connection:
            for name in (grown, steady):
                # Autovacuum would analyse the grown table too (its count is another column).
                await connection.execute(
                    text(f"ALTER TABLE {name} SET (autovacuum_enabled = false)")
                )
                await connection.execute(text(f"ANALYZE {name}"))
            await connection.execute(
                text(
                    "INSERT INTO report_code (dimension, value, code) SELECT 'test', "
                    "'value-' || n, 100000 + n FROM generate_series(1, 1200) AS n"
                )
            )
            # The inserts counted in the statistics views when this transaction ends.
            await connection.execute(text("SELECT pg_stat_force_next_flush()"))
        before = {name: await analysed(name) for name in (grown, steady)}
    d = Dataset()
    d.referral(details=Person())
    await load(d)  # something queued: a refresh with nothing to do returns at once

    try:
        assert await referral_app.state.report_facts.refresh() == 1
    finally:
        if postgresql:
            async with database.engine.begin() as connection:
                for name in (grown, steady):
                    await connection.execute(text(f"ALTER TABLE {name} RESET (autovacuum_enabled)"))

    if not postgresql:  # SQLite plans without table statistics of this kind
        return
    after = {name: await analysed(name) for name in (grown, steady)}
    assert after == {grown: before[grown] + 1, steady: before[steady]}


# A write of a referral's reasons that changes nothing: the change triggers queue the referral.
_REWRITE = "UPDATE referral_reason SET reason_text = reason_text WHERE referral_id = :id"


async def test_one_transaction_queues_a_referral_once_for_a_run_of_writes_to_it(load, referral_app):
    """Two reasons of one referral rewritten, then one of another, then the first again: on
    PostgreSQL the queue takes the first referral once for its run of writes (as many entries
    as rows before); the refresh reads each referral once either way."""
    d = Dataset()
    first = d.referral(reasons=("105531004", "160932005"), details=Person())
    other = d.referral(details=Person())
    await load(d)
    await referral_app.state.report_facts.refresh()
    async with referral_app.state.database.engine.begin() as connection:
        for referral in (first, other, first):
            await connection.execute(text(_REWRITE), {"id": referral})

    queued = "SELECT referral_id FROM report_change ORDER BY sequence"
    found = [row["referral_id"] for row in await fetch_rows(referral_app, queued)]
    if referral_app.state.database.engine.dialect.name == "postgresql":
        assert found == [first, other, first]
    else:
        assert found == [first, first, other, first, first]


async def _written_in_a_savepoint_rolled_back(connection: Any, referral: str) -> None:
    """An import's message that failed: its savepoint is rolled back."""
    savepoint = await connection.begin_nested()
    await connection.execute(text(_REWRITE), {"id": referral})
    await savepoint.rollback()


async def _written_then_the_queue_emptied(connection: Any, referral: str) -> None:
    """As a data migration may."""
    await connection.execute(text(_REWRITE), {"id": referral})
    await connection.execute(text("DELETE FROM report_change"))


@pytest.mark.parametrize(
    "undone",
    [_written_in_a_savepoint_rolled_back, _written_then_the_queue_emptied],
    ids=["savepoint rolled back", "queue emptied"],
)
async def test_a_referral_whose_queue_entry_was_undone_is_queued_by_its_next_write(
    undone, load, referral_app
):
    """A referral queued and its entry undone in a transaction (a savepoint rolled back, the
    queue emptied) is queued again by the transaction's next write of it."""
    d = Dataset()
    referral = d.referral(details=Person())
    await load(d)
    await referral_app.state.report_facts.refresh()

    async with referral_app.state.database.engine.begin() as connection:
        await undone(connection, referral)
        await connection.execute(text(_REWRITE), {"id": referral})

    assert await count_rows(referral_app, "report_change") == 1
