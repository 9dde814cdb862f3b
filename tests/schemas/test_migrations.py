"""Each service's Alembic history builds a schema identical to its models, up and down."""

import asyncio
import importlib
import json
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select, text
from sqlalchemy.ext.asyncio import create_async_engine

from referral_api.reports.facts_repository import (
    ACTIVITY_TOTALS,
    REASON_MONTHS,
    REASON_PEOPLE_MONTHS,
    REASON_WAIT_MONTHS,
    REFERRAL_MONTHS,
    SERVICE_USE_MONTHS,
    SUPPORT_MONTHS,
    WAIT_MONTHS,
    MonthlyCounts,
)
from referral_api.reports.measures import COMPLETENESS_FLAGS, CONTACT_OUTCOME_COLUMNS
from referral_api.reports.repository import counted
from referral_api.reports.workers import ACTIVITY_FLAGS
from signpost_platform.migrations import alembic_config, upgrade
from signpost_platform.settings import find_repo_file
from tests.support.databases import create_empty_database, drop_database, migrated_database

# No previous month, as the monthly counts by previous month keep it: the SMALLINT minimum,
# below every month (months count from January 2000, so December 1999 is -1).
NO_PREVIOUS_MONTH = -32768


def service_metadata(service):
    """The service's whole schema, as Alembic's env and the app register it (its models module;
    tests/schemas/test_models_registry.py checks that it names every table)."""
    return importlib.import_module(f"{service}_api.models").Base.metadata


@pytest.mark.parametrize("service", ["referral", "directory", "screening"])
async def test_migrations_match_the_models_and_downgrade_cleanly(backend, session_tmp, service):
    url = await migrated_database(backend, session_tmp, service)
    try:
        engine = create_async_engine(url)
        async with engine.connect() as connection:
            differences = await connection.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"compare_type": True}),
                    service_metadata(service),
                )
            )
        await engine.dispose()
        assert differences == []
        ini = find_repo_file("alembic.ini")
        await asyncio.to_thread(upgrade_down_up, ini, service, url)
    finally:
        await drop_database(url)


def upgrade_down_up(ini, service, url):
    command.downgrade(alembic_config(ini, service, url), "base")
    upgrade(ini, service, url)


async def test_existing_referrals_get_their_receiver_from_the_stored_performer(
    backend, session_tmp
):
    url = await create_empty_database(backend, session_tmp, "referral_receiver")
    ini = find_repo_file("alembic.ini")
    try:
        before = alembic_config(ini, "referral", url)
        await asyncio.to_thread(command.upgrade, before, "d5f0b9e3a7c4")
        performer = {
            "identifier": {
                "system": "https://fhir.nhs.uk/Id/ods-organization-code",
                "value": "y02001",
            }
        }
        engine = create_async_engine(url)
        async with engine.begin() as connection:
            not_a_code = {"identifier": {**performer["identifier"], "value": "not an ods code"}}
            for referral_id, resource in (
                ("with-performer", {"resourceType": "ServiceRequest", "performer": [performer]}),
                ("without", {"resourceType": "ServiceRequest"}),
                ("malformed", {"resourceType": "ServiceRequest", "performer": [not_a_code]}),
            ):
                await connection.execute(
                    text(
                        "INSERT INTO referral (id, version, status, intent, nhs_number, "
                        "requester_ods, received_by_role, source_of_referral_system, "
                        "source_of_referral_code, source_system, authored_at, created_at, "
                        "last_updated_at, resource) VALUES (:id, 1, 'active', 'order', "
                        "'9434765919', 'F84001', 'care-navigator', 's', 'c', 'api', :at, :at, "
                        ":at, :resource)"
                    ),
                    {
                        "id": referral_id,
                        "at": datetime(2026, 10, 1, tzinfo=UTC),
                        "resource": json.dumps(resource),
                    },
                )
        await asyncio.to_thread(upgrade, ini, "referral", url)
        async with engine.connect() as connection:
            rows = dict(
                (await connection.execute(text("SELECT id, receiver_ods FROM referral"))).all()
            )
        await engine.dispose()
        assert rows == {"with-performer": "Y02001", "without": None, "malformed": None}
    finally:
        await drop_database(url)


async def test_existing_referrals_and_links_are_filed_under_their_nhs_number(backend, session_tmp):
    url = await create_empty_database(backend, session_tmp, "referral_person_key")
    ini = find_repo_file("alembic.ini")
    try:
        before = alembic_config(ini, "referral", url)
        await asyncio.to_thread(command.upgrade, before, "3b6f1d2a9c07")
        engine = create_async_engine(url)
        async with engine.begin() as connection:
            for referral_id, nhs_number in (("a", "9434765919"), ("b", "9434765919")):
                await connection.execute(
                    text(
                        "INSERT INTO referral (id, version, status, intent, nhs_number, "
                        "requester_ods, received_by_role, source_of_referral_system, "
                        "source_of_referral_code, source_system, authored_at, created_at, "
                        "last_updated_at, resource) VALUES (:id, 1, 'active', 'order', :nhs, "
                        "'F84001', 'care-navigator', 's', 'c', 'api', :at, :at, :at, '{}')"
                    ),
                    {"id": referral_id, "nhs": nhs_number, "at": datetime(2026, 10, 1, tzinfo=UTC)},
                )
            await connection.execute(
                text(
                    "INSERT INTO referral_link (referral_id, linked_referral_id, link_type, "
                    "nhs_number) VALUES ('a', 'b', 'concurrent-other-role', '9434765919')"
                )
            )
        await asyncio.to_thread(upgrade, ini, "referral", url)
        async with engine.begin() as connection:
            referrals = dict(
                (await connection.execute(text("SELECT id, person_key FROM referral"))).all()
            )
            links = (
                await connection.execute(text("SELECT referral_id, person_key FROM referral_link"))
            ).all()
            # The rebuilt tables still queue report changes (their triggers were recreated),
            # each write in a transaction of its own (one queues a referral once on PostgreSQL).
            await connection.execute(text("DELETE FROM report_change"))
            await connection.execute(text("UPDATE referral SET person_key = 'x' WHERE id = 'a'"))
        async with engine.begin() as connection:
            await connection.execute(text("DELETE FROM referral_link"))
            queued = (
                await connection.execute(text("SELECT referral_id FROM report_change"))
            ).scalars()
            queued = sorted(queued)
        await engine.dispose()
        assert referrals == {"a": "9434765919", "b": "9434765919"}
        assert [tuple(row) for row in links] == [("a", "9434765919")]
        assert queued == ["a", "a"]
    finally:
        await drop_database(url)


async def test_existing_referrals_get_their_reason_and_source_groups(backend, session_tmp):
    url = await create_empty_database(backend, session_tmp, "referral_groups")
    config = alembic_config(find_repo_file("alembic.ini"), "referral", url)
    try:
        await asyncio.to_thread(command.upgrade, config, "8fe0f343e96d")
        engine = create_async_engine(url)
        async with engine.begin() as connection:
            for referral_id, source_system, source_code in (
                ("mhsds", MHSDS_SOURCE, "E4"),
                ("snomed", "http://snomed.info/sct", "185365002"),
                ("unknown", MHSDS_SOURCE, "Z9"),
            ):
                await connection.execute(
                    text(
                        "INSERT INTO referral (id, version, status, intent, nhs_number, "
                        "requester_ods, received_by_role, source_of_referral_system, "
                        "source_of_referral_code, authored_at, created_at, last_updated_at, "
                        "resource) VALUES (:id, 1, 'active', 'order', '9434765919', 'F84001', "
                        "'care-navigator', :system, :code, :at, :at, :at, '{}')"
                    ),
                    {
                        "id": referral_id,
                        "system": source_system,
                        "code": source_code,
                        "at": datetime(2026, 10, 1, tzinfo=UTC),
                    },
                )
            for rank, (reason_system, reason_code) in enumerate(
                (
                    ("http://snomed.info/sct", "1156191002"),
                    ("https://signpost.nhs.example/CodeSystem/referral-reason", "low-mood"),
                    ("http://snomed.info/sct", "999999"),
                ),
                start=1,
            ):
                await connection.execute(
                    text(
                        "INSERT INTO referral_reason (referral_id, rank, reason_system, "
                        "reason_code) VALUES ('mhsds', :rank, :system, :code)"
                    ),
                    {"rank": rank, "system": reason_system, "code": reason_code},
                )
        await asyncio.to_thread(command.upgrade, config, "dfc12d7dd6ee")
        async with engine.connect() as connection:
            sources = dict(
                (
                    await connection.execute(
                        text("SELECT id, source_of_referral_group FROM referral")
                    )
                ).all()
            )
            reasons = dict(
                (
                    await connection.execute(
                        text("SELECT reason_code, reason_group FROM referral_reason")
                    )
                ).all()
            )
            sample = (
                await connection.execute(
                    text(
                        "SELECT lsoa_code, local_authority_code FROM postcode_lsoa "
                        "WHERE postcode = 'E15 1DA'"
                    )
                )
            ).all()
        await engine.dispose()
        assert sources == {"mhsds": "justice", "snomed": "local-authority", "unknown": None}
        assert reasons == {"1156191002": "housing", "low-mood": "mental-wellbeing", "999999": None}
        assert [tuple(row) for row in sample] == [("E01033011", "E09000025")]
    finally:
        await drop_database(url)


MHSDS_SOURCE = (
    "https://www.datadictionary.nhs.uk/data_elements/source_of_referral_for_mental_health"
)


def _extracted_observation(observation_id: str, categories: list[str], answer: dict) -> dict:
    """An Observation as screening-api extracted them before UK Core categories."""
    codings = {
        "survey": {
            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
            "code": "survey",
            "display": "Survey",
        },
        "sdoh": {
            "system": "http://hl7.org/fhir/us/core/CodeSystem/us-core-category",
            "code": "sdoh",
            "display": "SDOH",
        },
        "food-insecurity": {
            "system": "http://hl7.org/fhir/us/sdoh-clinicalcare/CodeSystem/"
            "SDOHCC-CodeSystemTemporaryCodes",
            "code": "food-insecurity",
            "display": "Food Insecurity",
        },
    }
    return {
        "resourceType": "Observation",
        "id": observation_id,
        "meta": {"versionId": "1", "lastUpdated": "2026-11-02T09:30:00.000Z"},
        "status": "final",
        "category": [{"coding": [codings[name]]} for name in categories],
        "valueCodeableConcept": {"coding": [{"system": "http://loinc.org", **answer}]},
    }


async def test_extracted_observations_get_uk_core_categories_and_loinc_displays(
    backend, session_tmp
):
    url = await create_empty_database(backend, session_tmp, "screening_categories")
    ini = find_repo_file("alembic.ini")
    declined = {"code": "LA30122-8", "display": "I don't want to answer"}
    try:
        await asyncio.to_thread(
            command.upgrade, alembic_config(ini, "screening", url), "a7d3e5b1c904"
        )
        engine = create_async_engine(url)
        at = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO questionnaire_response (id, version, status, questionnaire_url, "
                    "questionnaire_version, nhs_number, clinic_ods, created_at, last_updated_at, "
                    "resource) VALUES ('r', 1, 'completed', 'u', '1', '9434765919', 'R1H12', :at, "
                    ":at, '{}')"
                ),
                {"at": at},
            )
            for observation_id, categories, answer in (
                ("risk", ["survey", "sdoh", "food-insecurity"], declined),
                ("help", ["survey"], {"code": "LA33-6", "display": "Yes"}),
            ):
                await connection.execute(
                    text(
                        "INSERT INTO observation (id, response_id, link_id, nhs_number, "
                        "code_system, code, domain_code, is_positive, effective_at, "
                        "last_updated_at, resource) VALUES (:id, 'r', '2', '9434765919', 's', "
                        "'c', NULL, false, :at, :at, :resource)"
                    ),
                    {
                        "id": observation_id,
                        "at": at,
                        "resource": json.dumps(
                            _extracted_observation(observation_id, categories, answer)
                        ),
                    },
                )
        await asyncio.to_thread(upgrade, ini, "screening", url)
        async with engine.connect() as connection:
            rows = (await connection.execute(text("SELECT id, resource FROM observation"))).all()
        await engine.dispose()
        stored = {observation_id: json.loads(resource) for observation_id, resource in rows}
        risk = stored["risk"]
        assert [c["coding"][0]["code"] for c in risk["category"]] == [
            "survey",
            "social-history",
            "food-insecurity",
        ]
        assert risk["category"][1]["coding"][0] == {
            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
            "code": "social-history",
            "display": "Social History",
        }
        assert risk["valueCodeableConcept"]["coding"][0]["display"] == (
            "I choose not to answer this question"
        )
        assert risk["meta"]["versionId"] == "2"
        assert risk["meta"]["lastUpdated"] != "2026-11-02T09:30:00.000Z"
        # Nothing US Core to replace: left exactly as it was.
        assert stored["help"] == _extracted_observation(
            "help", ["survey"], {"code": "LA33-6", "display": "Yes"}
        )
    finally:
        await drop_database(url)


@asynccontextmanager
async def _referral_at(backend, session_tmp, name: str, revision: str):
    """A new referral database (`referral_<name>`) migrated up to `revision`, and an engine
    on it; both gone when the block ends."""
    url = await create_empty_database(backend, session_tmp, f"referral_{name}")
    try:
        config = alembic_config(find_repo_file("alembic.ini"), "referral", url)
        await asyncio.to_thread(command.upgrade, config, revision)
        engine = create_async_engine(url)
        try:
            yield url, engine
        finally:
            await engine.dispose()
    finally:
        await drop_database(url)


async def _upgrade_to_head(url: str, revision: str = "head") -> None:
    await asyncio.to_thread(upgrade, find_repo_file("alembic.ini"), "referral", url, revision)


async def _selected(engine, sql: str) -> list[tuple]:
    """The rows `sql` (a SELECT) answers, as tuples."""
    async with engine.connect() as connection:
        return [tuple(row) for row in await connection.execute(text(sql))]


async def _insert_referral(connection, referral_id: str, nhs_number: str, at: datetime) -> None:
    """A referral row as the revisions before the report facts' changes hold one."""
    await connection.execute(
        text(
            "INSERT INTO referral (id, version, status, intent, nhs_number, "
            "requester_ods, received_by_role, source_of_referral_system, "
            "source_of_referral_code, source_system, authored_at, created_at, "
            "last_updated_at, resource, person_key) VALUES (:id, 1, 'active', "
            "'order', :nhs, 'F84001', 'care-navigator', 's', 'c', 'api', :at, "
            ":at, :at, '{}', :nhs)"
        ),
        {"id": referral_id, "nhs": nhs_number, "at": at},
    )


async def _facts_vouched_for(connection, at: datetime) -> None:
    """The facts as a refresh leaves them: nothing queued, current as of `at`."""
    await connection.execute(text("DELETE FROM report_change"))
    await connection.execute(
        text(
            "INSERT INTO report_state (id, key_fingerprint, refreshed_at) "
            "VALUES (1, 'fingerprint', :at)"
        ),
        {"at": at},
    )


async def _facts_state(engine) -> tuple[datetime | None, list]:
    """When the facts say they were refreshed, and the referrals queued for the refresh."""
    async with engine.connect() as connection:
        refreshed_at = (
            await connection.execute(text("SELECT refreshed_at FROM report_state"))
        ).scalar_one()
        queued = (
            await connection.execute(text("SELECT DISTINCT referral_id FROM report_change"))
        ).all()
    return refreshed_at, queued


async def _assert_facts_still_current(engine) -> None:
    """The migration left the facts vouched for, with nothing queued for the refresh."""
    refreshed_at, queued = await _facts_state(engine)
    assert refreshed_at is not None  # still vouched for
    assert queued == []


# A fact row's dimensions: received on 2026-10-01 (month 321), the first role and system.
_FACT_DIMENSIONS = {
    "authored_on": date(2026, 10, 1),
    "month": 321,
    "role": 1,
    "source_system": 1,
}


async def _insert_fact(connection, table: str, **values) -> None:
    """One row of a fact table, with `_FACT_DIMENSIONS` and `values`."""
    columns = {**_FACT_DIMENSIONS, **values}
    await connection.execute(
        text(
            f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608
            f"VALUES ({', '.join(':' + name for name in columns)})"
        ),
        columns,
    )


async def _insert_referral_fact(connection, key: int, **values) -> None:
    """A row of referral facts: every column that must have a value and has no default (the
    measures of the revision the database is at) 0 unless `values` gives it."""

    def required(sync_connection) -> list[str]:
        columns = inspect(sync_connection).get_columns("report_referral")
        return [c["name"] for c in columns if not c["nullable"] and c["default"] is None]

    measures = dict.fromkeys(await connection.run_sync(required), 0)
    row = {**measures, **_FACT_DIMENSIONS, "referral_key": key, **values}
    await _insert_fact(connection, "report_referral", **row)


async def _insert_reason_fact(connection, key: int, reason: int, **values) -> None:
    flags = {"group_first": 1, "has_support": 0, "need_met": 0}
    await _insert_fact(
        connection, "report_reason", referral_key=key, reason=reason, **{**flags, **values}
    )


async def test_new_report_facts_leave_the_facts_unvouched_until_the_refresh_has_derived_them(
    backend, session_tmp
):
    """The revisions that add the workers, service-use and data-quality facts create them
    empty and queue every referral: until a refresh has derived them, reports must not say
    their facts are current (X-Facts-Refreshed-At comes from `report_state.refreshed_at`)."""
    async with _referral_at(backend, session_tmp, "new_facts", "a7d3c9e1f2b4") as (url, engine):
        at = datetime(2026, 10, 1, tzinfo=UTC)
        async with engine.begin() as connection:
            await _insert_referral(connection, "kept", "9434765919", at)
            await _facts_vouched_for(connection, at)
        await _upgrade_to_head(url)
        refreshed_at, queued = await _facts_state(engine)
        assert refreshed_at is None
        assert queued == [("kept",)]


async def test_the_monthly_data_quality_counts_are_summed_from_the_days_kept(backend, session_tmp):
    """The revision adding `report_quality_month` fills it from the day rows already derived,
    month by month (months since January 2000), system and sender: no refresh is needed."""
    counts = (
        "with_gap",
        "no_source",
        "unmapped_reason",
        "text_only_reason",
        "no_nhs_number",
        "not_interpreted",
        "personal_data_removed",
        "other_gap",
        "any_unmapped",
        "referrals",
    )
    columns = [column for name in counts for column in (name, f"{name}_cell_key")]
    async with _referral_at(backend, session_tmp, "quality_months", "d2a7c5e9f816") as (
        url,
        engine,
    ):
        days = [
            ("2026-01-01", "emis", "F84001", 2),
            ("2026-01-31", "emis", "F84001", 3),
            ("2026-02-01", "emis", "F84001", 5),
            ("2026-01-15", "rio", "F84001", 7),
        ]
        async with engine.begin() as connection:
            for received_on, system, sender, value in days:
                await connection.execute(
                    text(
                        f"INSERT INTO report_quality_day (received_on, source_system, sender, "  # noqa: S608
                        f"{', '.join(columns)}) VALUES (:day, :system, :sender, "
                        f"{', '.join(f':{column}' for column in columns)})"
                    ),
                    {
                        "day": datetime.strptime(received_on, "%Y-%m-%d").date(),
                        "system": system,
                        "sender": sender,
                        **dict.fromkeys(columns, value),
                    },
                )
        await _upgrade_to_head(url)
        async with engine.connect() as connection:
            months = (
                await connection.execute(
                    text(
                        "SELECT month, source_system, sender, referrals, with_gap_cell_key, "
                        "any_unmapped FROM report_quality_month ORDER BY month, source_system"
                    )
                )
            ).all()
        # 2026-01 is month 312.
        assert [tuple(row) for row in months] == [
            (312, "emis", "F84001", 5, 5, 5),
            (312, "rio", "F84001", 7, 7, 7),
            (313, "emis", "F84001", 5, 5, 5),
        ]


async def test_replaced_characters_get_their_own_warning_and_their_referrals_counted_again(
    backend, session_tmp
):
    """The revision adding the `replaced_characters` warning queues the referrals that have
    such a gap (counted under "other data gaps" until then), and only those, and leaves the
    facts unvouched until the refresh has counted them again."""
    async with _referral_at(
        backend, session_tmp, "referral_replaced_characters", "93926a62cc61"
    ) as (url, engine):
        at = datetime(2026, 10, 1, tzinfo=UTC)
        async with engine.begin() as connection:
            for referral_id, nhs_number in (("pasted", "9434765919"), ("plain", "9434765870")):
                await _insert_referral(connection, referral_id, nhs_number, at)
            for referral_id, kind in (("pasted", "replaced-characters"), ("plain", "not-recorded")):
                await connection.execute(
                    text(
                        "INSERT INTO referral_gap (referral_id, position, kind, element) "
                        "VALUES (:id, 0, :kind, 'ServiceRequest.reasonCode.text')"
                    ),
                    {"id": referral_id, "kind": kind},
                )
            await _facts_vouched_for(connection, at)
        await _upgrade_to_head(url)
        refreshed_at, queued = await _facts_state(engine)
        assert refreshed_at is None
        assert queued == [("pasted",)]


async def test_referrals_with_a_pair_of_reason_groups_are_flagged_from_the_pair_facts(
    backend, session_tmp
):
    """The revision adding `several_reason_groups` sets it on the referral facts that have a
    pair of reason groups (pair level 2), not on those with a pair of reasons in one group
    (level 1) alone, nor on those whose only pair of groups has "not recorded" in it (those
    pairs are deleted), and leaves the facts current: nothing queued, still vouched for."""
    async with _referral_at(backend, session_tmp, "several_groups", "c87278a6aa5b") as (
        url,
        engine,
    ):
        at = datetime(2026, 10, 1, tzinfo=UTC)
        async with engine.begin() as connection:
            for key in (1, 2, 3):
                await _insert_referral_fact(connection, key)
            await connection.execute(
                text(
                    "INSERT INTO report_code (dimension, value, code) "
                    "VALUES ('reason-group', 'not-recorded', 9)"
                )
            )
            # 1: reasons in two groups (and so two reasons); 2: two reasons of one group;
            # 3: "not recorded" beside a reason given as text only (group 1, "uncoded").
            for key, level, second in ((1, 1, 2), (1, 2, 2), (2, 1, 2), (3, 2, 9)):
                await _insert_fact(
                    connection,
                    "report_reason_pair",
                    referral_key=key,
                    level=level,
                    first=1,
                    second=second,
                )
            await _facts_vouched_for(connection, at)
        await _upgrade_to_head(url)
        flagged = await _selected(
            engine, "SELECT referral_key, several_reason_groups FROM report_referral ORDER BY 1"
        )
        pairs = await _selected(
            engine, "SELECT referral_key, level FROM report_reason_pair ORDER BY 1, 2"
        )
        assert flagged == [(1, 1), (2, 0), (3, 0)]
        assert pairs == [(1, 1), (1, 2), (2, 1)]
        await _assert_facts_still_current(engine)


async def test_one_reason_row_per_referral_among_its_group_firsts_is_marked_referral_first(
    backend, session_tmp
):
    """The revision adding `report_reason.referral_first` marks exactly one row of each
    referral already derived, one of its `group_first` rows (so it is counted at the reason
    and the reason-group level alike), and leaves the facts current."""
    async with _referral_at(backend, session_tmp, "reason_first", "65e306de8314") as (url, engine):
        at = datetime(2026, 10, 1, tzinfo=UTC)
        # (referral, reason code, group_first): referral 1's lowest code is second in its
        # group, so not a group_first row; referral 2 has one reason.
        rows = ((1, 5, 0), (1, 7, 1), (1, 9, 1), (2, 3, 1))
        async with engine.begin() as connection:
            for key, reason, group_first in rows:
                await _insert_reason_fact(connection, key, reason, group_first=group_first)
            await _facts_vouched_for(connection, at)
        await _upgrade_to_head(url)
        marked = await _selected(
            engine,
            "SELECT referral_key, reason FROM report_reason WHERE referral_first = 1 ORDER BY 1",
        )
        assert marked == [(1, 7), (2, 3)]
        await _assert_facts_still_current(engine)


async def test_each_referral_s_need_and_match_are_copied_onto_its_first_reason_row(
    backend, session_tmp
):
    """The revision adding `first_has_need` and `first_need_met` sets them from the referral
    facts on each referral's `referral_first` row alone (0 on its other rows and on referrals
    with no need), and leaves the facts current."""
    async with _referral_at(backend, session_tmp, "first_need", "924014806f91") as (url, engine):
        at = datetime(2026, 10, 1, tzinfo=UTC)
        # (referral, has_need, need_met): 1 a need met, 2 a need not met, 3 no need.
        referrals = ((1, 1, 1), (2, 1, 0), (3, 0, 0))
        # (referral, reason code, referral_first): referral 1's first reason is its second row.
        reasons = ((1, 4, 0), (1, 6, 1), (2, 3, 1), (3, 8, 1))
        async with engine.begin() as connection:
            for key, need, met in referrals:
                await _insert_referral_fact(connection, key, has_need=need, need_met=met)
            for key, reason, first in reasons:
                await _insert_reason_fact(connection, key, reason, referral_first=first)
            await _facts_vouched_for(connection, at)
        await _upgrade_to_head(url)
        copied = await _selected(
            engine,
            "SELECT referral_key, reason, first_has_need, first_need_met FROM report_reason "
            "ORDER BY 1, 2",
        )
        assert copied == [(1, 4, 0, 0), (1, 6, 1, 1), (2, 3, 1, 0), (3, 8, 0, 0)]
        await _assert_facts_still_current(engine)


async def test_each_support_fact_is_given_its_referral_s_status(backend, session_tmp):
    """The revision adding `report_support.status` copies each referral's status onto its
    support facts, and leaves the facts current."""
    async with _referral_at(backend, session_tmp, "support_status", "3b7c0e5d9a21") as (
        url,
        engine,
    ):
        at = datetime(2026, 10, 1, tzinfo=UTC)
        async with engine.begin() as connection:
            for key, status in ((1, 4), (2, 2), (3, 5)):  # 3 was offered no support
                await _insert_referral_fact(connection, key, status=status)
            for key, support in ((1, 10), (1, 11), (2, 10)):
                await _insert_fact(
                    connection,
                    "report_support",
                    referral_key=key,
                    support=support,
                    support_group=1,
                    group_first=int(support == 10),
                    offers=1,
                    onward_referrals=0,
                )
            await _facts_vouched_for(connection, at)
        await _upgrade_to_head(url)
        copied = await _selected(
            engine, "SELECT referral_key, support, status FROM report_support ORDER BY 1, 2"
        )
        assert copied == [(1, 10, 4), (1, 11, 4), (2, 10, 2)]
        await _assert_facts_still_current(engine)


async def test_service_use_facts_get_their_previous_months_and_rows_by_reason_group(
    backend, session_tmp
):
    """The revision adding `report_service_use_reason` copies each service-use fact once per
    reason group of its referral (from the reason facts' `group_first` rows, `use_first` on
    its `referral_first` one) and sets the previous months per measure as the refresh does:
    of any group and by role on the service-use facts, by reason group and by role and reason
    group on the new rows; it leaves the facts current."""
    async with _referral_at(backend, session_tmp, "use_by_reason", "c3d8f1a6e592") as (
        url,
        engine,
    ):
        at = datetime(2026, 10, 1, tzinfo=UTC)
        september, october, november = 320, 321, 322
        # (referral, month, role, person): referral 4 is a person's only one.
        referrals = ((1, september, 1, 42), (2, october, 2, 42), (3, november, 1, 42))
        referrals += ((4, october, 1, 7),)
        # (referral, reason, reason group, group_first, referral_first)
        reasons = ((1, 5, 1, 1, 1), (1, 6, 2, 1, 0), (1, 7, 1, 0, 0), (2, 5, 1, 1, 1))
        reasons += ((3, 6, 2, 1, 1), (4, 5, 1, 1, 1))
        uses = ((1, "gp"), (2, "gp"), (3, "gp"), (3, "ae"), (4, "gp"))
        async with engine.begin() as connection:
            for key, month, role, person in referrals:
                dimensions = {
                    "authored_on": date(2000 + month // 12, month % 12 + 1, 2),
                    "month": month,
                    "role": role,
                    "person_key": person,
                    "person_tag": person,
                    "shared_person": int(person == 42),
                }
                for reason, group, group_first, first in (r[1:] for r in reasons if r[0] == key):
                    await _insert_fact(
                        connection,
                        "report_reason",
                        **dimensions,
                        referral_key=key,
                        reason=reason,
                        reason_group=group,
                        group_first=group_first,
                        referral_first=first,
                        has_support=0,
                        need_met=0,
                    )
                for measure in (m for k, m in uses if k == key):
                    await _insert_fact(
                        connection,
                        "report_service_use",
                        **dimensions,
                        referral_key=key,
                        measure=measure,
                        before=2,
                        after=1,
                    )
            await _facts_vouched_for(connection, at)
        await _upgrade_to_head(url)
        use = await _selected(
            engine,
            "SELECT referral_key, measure, previous_month, previous_month_by_role "
            "FROM report_service_use ORDER BY 1, 2",
        )
        assert use == [
            (1, "gp", None, None),
            (2, "gp", september, None),  # another role
            (3, "ae", None, None),  # the person's first in this measure
            (3, "gp", october, september),
            (4, "gp", None, None),
        ]
        by_group = await _selected(
            engine,
            "SELECT referral_key, measure, reason, reason_group, use_first, previous_month, "
            "previous_month_by_reason_group, previous_month_by_role_reason_group "
            "FROM report_service_use_reason ORDER BY 1, 2, 3",
        )
        assert by_group == [
            (1, "gp", 5, 1, 1, None, None, None),
            (1, "gp", 6, 2, 0, None, None, None),
            (2, "gp", 5, 1, 1, september, september, None),
            (3, "ae", 6, 2, 1, None, None, None),
            (3, "gp", 6, 2, 1, october, september, september),
            (4, "gp", 5, 1, 1, None, None, None),
        ]
        await _assert_facts_still_current(engine)


async def test_reason_pairs_and_referrals_are_summed_per_month_and_role(backend, session_tmp):
    """The revision adding the monthly counts sums the facts already derived: the pair facts
    per month, role, level and pair, the referral facts (referrals, several reasons, several
    groups) per month and role, each with its record keys; it leaves the facts current."""
    async with _referral_at(backend, session_tmp, "pair_months", "e5b2d7c9f148") as (url, engine):
        at = datetime(2026, 10, 1, tzinfo=UTC)
        # (referral, month, role, level, first, second, record key)
        pairs = ((1, 321, 1, 1, 5, 6, 10), (2, 321, 1, 1, 5, 6, 20), (2, 321, 1, 2, 1, 2, 20))
        pairs += ((3, 322, 2, 1, 5, 6, 30),)
        async with engine.begin() as connection:
            for key, month, role, level, first, second, record_key in pairs:
                await _insert_fact(
                    connection,
                    "report_reason_pair",
                    referral_key=key,
                    month=month,
                    role=role,
                    level=level,
                    first=first,
                    second=second,
                    record_key=record_key,
                )
            # (referral, month, role, several reasons, several groups, record key)
            for key, month, role, several, groups, record_key in (
                (1, 321, 1, 1, 0, 10),
                (2, 321, 1, 1, 1, 20),
                (3, 322, 2, 0, 0, 30),
            ):
                await _insert_referral_fact(
                    connection,
                    key,
                    month=month,
                    role=role,
                    several_reasons=several,
                    several_reason_groups=groups,
                    record_key=record_key,
                )
            await _facts_vouched_for(connection, at)
        await _upgrade_to_head(url, "f3a9c6e1d427")
        referrals = await _selected(engine, "SELECT * FROM report_referral_month ORDER BY 1, 2")
        # (month, role, referrals and key, several and key, several groups and key)
        assert referrals == [(321, 1, 2, 30, 2, 30, 1, 20), (322, 2, 1, 30, 0, 0, 0, 0)]
        summed = await _selected(
            engine,
            "SELECT month, role, level, first, second, referrals, referrals_cell_key "
            "FROM report_reason_pair_month ORDER BY 1, 2, 3",
        )
        assert summed == [
            (321, 1, 1, 5, 6, 2, 30),
            (321, 1, 2, 1, 2, 1, 20),
            (322, 2, 1, 5, 6, 1, 30),
        ]
        await _assert_facts_still_current(engine)


def _every_other_count(key: int) -> dict[str, int]:
    """Values for the referral facts' flags (but `has_lsoa`) and contact counts the monthly
    counts sum, different per referral, so a count summed from the wrong column shows."""
    flags = [column for column in COMPLETENESS_FLAGS.values() if column != "has_lsoa"]
    counts = [name for name in CONTACT_OUTCOME_COLUMNS if name != "dna"]
    return {
        # Referrals 1 to 4: each flag set on a different set of them (its index + 1 in binary).
        **{column: (index + 1) >> (key - 1) & 1 for index, column in enumerate(flags[1:])},
        **{column: (key * index) % 5 for index, column in enumerate(counts, start=1)},
    }


async def _assert_summed_as_the_refresh_sums(engine, kept: MonthlyCounts) -> None:
    """The monthly counts `kept` hold their facts summed as the refresh sums them."""
    summed = select(
        *(value.label(name) for name, value in kept.keys.items()),
        *(
            column
            for name, value in kept.counts.items()
            for column in counted(name, kept.facts, value)
        ),
    ).group_by(*kept.keys.values())
    async with engine.connect() as connection:
        held = [dict(row._mapping) for row in await connection.execute(select(kept.table))]
        expected = [dict(row._mapping) for row in await connection.execute(summed)]
    assert sorted(held, key=repr) == sorted(expected, key=repr)


async def test_referrals_are_summed_per_month_role_source_system_and_status(backend, session_tmp):
    """The revision keeping the referrals' monthly counts by source system and status sums the
    referral facts already derived with the completeness and attendance counts and those
    offered support, each with its record keys; its downgrade sums them per month and role
    again."""
    async with _referral_at(backend, session_tmp, "referral_months", "f3a9c6e1d427") as (
        url,
        engine,
    ):
        at = datetime(2026, 10, 1, tzinfo=UTC)
        # (referral, source system, status, reason coded, contacts, DNAs, record key)
        facts = ((1, 1, 1, 1, 2, 0, 10), (2, 1, 1, 0, 3, 1, 20), (3, 2, 1, 1, 0, 0, 30))
        facts += ((4, 1, 5, 1, 1, 1, 40),)
        async with engine.begin() as connection:
            for key, system, status, coded, contacts, dna, record_key in facts:
                await _insert_referral_fact(
                    connection,
                    key,
                    source_system=system,
                    status=status,
                    reason_coded=coded,
                    contacts=contacts,
                    dna=dna,
                    several_reasons=1,
                    has_support=key % 2,
                    record_key=record_key,
                    **_every_other_count(key),
                )
            await _facts_vouched_for(connection, at)
        await _upgrade_to_head(url)
        summed = await _selected(
            engine,
            "SELECT source_system, status, referrals, referrals_cell_key, several, "
            "several_cell_key, has_reason, has_reason_cell_key, contacts, contacts_cell_key, "
            "dna, dna_cell_key, referrals_with_contact, referrals_with_contact_cell_key, "
            "referrals_with_dna, referrals_with_dna_cell_key, has_lsoa, offered, "
            "offered_cell_key FROM report_referral_month WHERE month = 321 AND role = 1 "
            "ORDER BY 1, 2",
        )
        assert summed == [
            (1, 1, 2, 30, 2, 30, 1, 10, 5, 80, 1, 20, 2, 30, 1, 20, 0, 1, 10),
            (1, 5, 1, 40, 1, 40, 1, 40, 1, 40, 1, 40, 1, 40, 1, 40, 0, 0, 0),
            (2, 1, 1, 30, 1, 30, 1, 30, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 30),
        ]
        await _assert_summed_as_the_refresh_sums(engine, REFERRAL_MONTHS)
        await _assert_facts_still_current(engine)
        config = alembic_config(find_repo_file("alembic.ini"), "referral", url)
        await asyncio.to_thread(command.downgrade, config, "f3a9c6e1d427")
        assert await _selected(engine, "SELECT * FROM report_referral_month") == [
            (321, 1, 4, 100, 4, 100, 0, 0)
        ]


async def test_reasons_are_summed_per_month_role_source_system_reason_and_group(
    backend, session_tmp
):
    """The revision adding the reasons' monthly counts sums the reason facts already derived:
    every row, the group and referral first rows, and the support-match counts on the group
    rows, each with its record keys; a reason with no group under -1."""
    async with _referral_at(backend, session_tmp, "reason_months", "b6f1d3a8c527") as (
        url,
        engine,
    ):
        at = datetime(2026, 10, 1, tzinfo=UTC)
        # (referral, reason, group, group first, referral first, has support, need met,
        # first has need, first need met, record key)
        reasons = (
            (1, 5, 1, 1, 1, 1, 1, 1, 1, 10),
            (1, 6, 1, 0, 0, 1, 1, 0, 0, 10),
            (2, 5, 1, 1, 1, 0, 0, 1, 0, 20),
            (2, 7, None, 1, 0, 0, 0, 0, 0, 20),
        )
        async with engine.begin() as connection:
            for key, reason, group, *flags, record_key in reasons:
                names = ("group_first", "referral_first", "has_support", "need_met")
                names += ("first_has_need", "first_need_met")
                await _insert_reason_fact(
                    connection,
                    key,
                    reason,
                    reason_group=group,
                    record_key=record_key,
                    **_FACT_DIMENSIONS,
                    **dict(zip(names, flags, strict=True)),
                )
            await _facts_vouched_for(connection, at)
        await _upgrade_to_head(url)
        summed = await _selected(
            engine,
            "SELECT reason, reason_group, reasons, reasons_cell_key, group_first, "
            "referral_first, referral_first_cell_key, with_support, with_support_cell_key, "
            "matched, first_has_need, first_with_support, first_with_support_cell_key, "
            "first_need_met FROM report_reason_month ORDER BY 1, 2",
        )
        assert summed == [
            (5, 1, 2, 30, 2, 2, 30, 1, 10, 1, 2, 1, 10, 1),
            (6, 1, 1, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
            (7, -1, 1, 20, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0),
        ]
        await _assert_summed_as_the_refresh_sums(engine, REASON_MONTHS)
        await _assert_facts_still_current(engine)


async def test_support_is_summed_per_month_role_source_system_support_group_and_status(
    backend, session_tmp
):
    """The revision adding the support's monthly counts sums the support facts already derived:
    every row, the group first rows, the offers and onward referrals, each with its record
    keys; a support fact with no status under -1."""
    async with _referral_at(backend, session_tmp, "support_months", "d4a9e2c7b615") as (
        url,
        engine,
    ):
        at = datetime(2026, 10, 1, tzinfo=UTC)
        # (referral, support, group, group first, offers, onward referrals, status, record key)
        support = ((1, 5, 1, 1, 2, 1, 3, 10), (1, 6, 1, 0, 1, 0, 3, 10), (2, 5, 1, 1, 1, 0, 3, 20))
        support += ((3, 5, 1, 1, 1, 1, None, 30),)
        async with engine.begin() as connection:
            for key, code, group, first, offers, onward, status, record_key in support:
                await _insert_fact(
                    connection,
                    "report_support",
                    referral_key=key,
                    support=code,
                    support_group=group,
                    group_first=first,
                    offers=offers,
                    onward_referrals=onward,
                    status=status,
                    record_key=record_key,
                    **_FACT_DIMENSIONS,
                )
            await _facts_vouched_for(connection, at)
        await _upgrade_to_head(url)
        summed = await _selected(
            engine,
            "SELECT support, status, supports, supports_cell_key, group_first, "
            "group_first_cell_key, offers, offers_cell_key, onward_referrals, "
            "onward_referrals_cell_key FROM report_support_month ORDER BY 1, 2",
        )
        assert summed == [
            (5, -1, 1, 30, 1, 30, 1, 30, 1, 30),
            (5, 3, 2, 30, 2, 30, 3, 40, 1, 10),
            (6, 3, 1, 10, 0, 0, 1, 10, 0, 0),
        ]
        await _assert_summed_as_the_refresh_sums(engine, SUPPORT_MONTHS)
        await _assert_facts_still_current(engine)


async def test_re_referrals_and_parallel_referrals_join_the_referrals_monthly_counts(
    backend, session_tmp
):
    """The revision adding the re-referrals and referrals in parallel to the referrals' monthly
    counts sums them, with their record keys, from the referral facts already derived, beside
    the counts kept before, and indexes the facts in parallel; its downgrade sums the table
    without them again and drops the index."""
    async with _referral_at(backend, session_tmp, "linkage_months", "e8c3f5a1d297") as (
        url,
        engine,
    ):
        at = datetime(2026, 10, 1, tzinfo=UTC)
        # (referral, status, re-referral, parallel, record key)
        facts = ((1, 1, 1, 0, 10), (2, 1, 1, 1, 20), (3, 1, 0, 1, 40), (4, 5, 0, 1, 80))
        async with engine.begin() as connection:
            for key, status, re_referral, parallel, record_key in facts:
                await _insert_referral_fact(
                    connection,
                    key,
                    status=status,
                    re_referral=re_referral,
                    parallel=parallel,
                    record_key=record_key,
                    **_every_other_count(key),
                )
            await _facts_vouched_for(connection, at)
        await _upgrade_to_head(url)
        summed = await _selected(
            engine,
            "SELECT status, referrals, referrals_cell_key, re_referrals, re_referrals_cell_key, "
            "parallel, parallel_cell_key FROM report_referral_month ORDER BY 1",
        )
        assert summed == [(1, 3, 70, 2, 30, 2, 60), (5, 1, 80, 0, 0, 1, 80)]
        await _assert_summed_as_the_refresh_sums(engine, REFERRAL_MONTHS)
        await _assert_facts_still_current(engine)

        def indexes(sync_connection) -> set[str]:
            return {i["name"] for i in inspect(sync_connection).get_indexes("report_referral")}

        async with engine.connect() as connection:
            assert "ix_report_referral_parallel" in await connection.run_sync(indexes)
        config = alembic_config(find_repo_file("alembic.ini"), "referral", url)
        await asyncio.to_thread(command.downgrade, config, "e8c3f5a1d297")
        earlier = await _selected(
            engine,
            "SELECT status, referrals, referrals_cell_key, has_reason, has_reason_cell_key, "
            "offered FROM report_referral_month ORDER BY 1",
        )
        assert [row[:3] for row in earlier] == [(1, 3, 70), (5, 1, 80)]
        async with engine.connect() as connection:
            assert "ix_report_referral_parallel" not in await connection.run_sync(indexes)
            columns = await connection.run_sync(
                lambda sync: {c["name"] for c in inspect(sync).get_columns("report_referral_month")}
            )
        assert "re_referrals" not in columns and "parallel" not in columns


async def test_reason_groups_people_are_summed_per_month_group_and_previous_months(
    backend, session_tmp
):
    """The revision adding the reason facts' counts by previous months sums the reason facts
    already derived: every row, the group rows and the referrals' first rows, with their record
    keys and their person tags (which overflow an INTEGER summed, or times a record key), per
    month, reason group and previous months; no group under -1, no previous month under the
    SMALLINT minimum."""
    async with _referral_at(backend, session_tmp, "reason_people", "a7d2c9f4b183") as (
        url,
        engine,
    ):
        at = datetime(2026, 10, 1, tzinfo=UTC)
        tag = 2_000_000_000
        # (referral, reason, group, group first, referral first, previous in the group,
        # previous of any group, person tag, record key)
        reasons = (
            (1, 5, 1, 1, 1, None, None, tag, 10),
            (1, 6, 1, 0, 0, None, None, tag, 10),
            (2, 5, 1, 1, 1, 320, 319, tag + 1, 200),
            (2, 7, None, 1, 0, None, 319, tag + 1, 200),
            (3, 5, 1, 1, 1, None, None, None, 40),
        )
        async with engine.begin() as connection:
            for (
                key,
                reason,
                group,
                group_first,
                first,
                previous,
                any_previous,
                person,
                record,
            ) in reasons:
                await _insert_reason_fact(
                    connection,
                    key,
                    reason,
                    reason_group=group,
                    group_first=group_first,
                    referral_first=first,
                    previous_month_by_reason_group=previous,
                    previous_month=any_previous,
                    person_tag=person,
                    record_key=record,
                    **_FACT_DIMENSIONS,
                )
            await _facts_vouched_for(connection, at)
        await _upgrade_to_head(url)
        summed = await _selected(
            engine,
            "SELECT reason_group, previous, first_previous, reasons, group_rows, "
            "group_rows_cell_key, group_tags, first_rows, first_tags "
            "FROM report_reason_people_month ORDER BY 1, 2, 3",
        )
        assert summed == [
            (-1, NO_PREVIOUS_MONTH, 319, 1, 1, 200, tag + 1, 0, 0),
            (1, NO_PREVIOUS_MONTH, NO_PREVIOUS_MONTH, 3, 2, 50, tag, 2, tag),
            (1, 320, 319, 1, 1, 200, tag + 1, 1, tag + 1),
        ]
        await _assert_summed_as_the_refresh_sums(engine, REASON_PEOPLE_MONTHS)
        await _assert_facts_still_current(engine)
        await _assert_downgrade_drops(url, engine, "a7d2c9f4b183", "report_reason_people_month")


async def test_service_use_by_reason_group_is_summed_per_month_group_measure_and_previous_months(
    backend, session_tmp
):
    """The revision adding the service use's monthly counts by reason group sums the facts by
    reason group already derived: pairs, person tags (which overflow an INTEGER times a record
    key), sums before and after and fewer after, of every row and of the `use_first` rows, with
    their record keys, per month, role, reason group, measure and previous months; no group
    under -1, no previous month under the SMALLINT minimum."""
    async with _referral_at(backend, session_tmp, "use_months", "c5e8a1f3d926") as (url, engine):
        at = datetime(2026, 10, 1, tzinfo=UTC)
        tag = 2_000_000_000
        # (referral, reason, group, use first, before, after, previous by group, by role and
        # group, of any group, person tag, record key)
        rows = (
            (1, 5, 1, 1, 10, 4, None, None, None, tag, 10),
            (1, 7, None, 0, 10, 4, None, None, None, tag, 10),
            (2, 5, 1, 1, 3, 6, 321, None, 321, tag + 1, 200),
            (3, 5, 1, 1, 2, 1, None, None, None, None, 40),
        )
        async with engine.begin() as connection:
            for key, reason, group, first, before, after, *previous, person, record in rows:
                by_group, by_role, any_ = previous
                await _insert_fact(
                    connection,
                    "report_service_use_reason",
                    referral_key=key,
                    measure="gp-appointments",
                    reason=reason,
                    reason_group=group,
                    use_first=first,
                    before=before,
                    after=after,
                    previous_month_by_reason_group=by_group,
                    previous_month_by_role_reason_group=by_role,
                    previous_month=any_,
                    person_tag=person,
                    record_key=record,
                    **_FACT_DIMENSIONS,
                )
            await _facts_vouched_for(connection, at)
        await _upgrade_to_head(url)
        summed = await _selected(
            engine,
            "SELECT reason_group, previous_group, first_previous, pairs, pairs_cell_key, tags, "
            "before_sum, after_sum, fewer, fewer_cell_key, once_pairs, once_tags, "
            "once_before_sum, once_fewer FROM report_service_use_month ORDER BY 1, 2",
        )
        assert summed == [
            (-1, NO_PREVIOUS_MONTH, NO_PREVIOUS_MONTH, 1, 10, tag, 10, 4, 1, 10, 0, 0, 0, 0),
            (1, NO_PREVIOUS_MONTH, NO_PREVIOUS_MONTH, 2, 50, tag, 12, 5, 2, 50, 2, tag, 12, 2),
            (1, 321, 321, 1, 200, tag + 1, 3, 6, 0, 0, 1, tag + 1, 3, 0),
        ]
        await _assert_summed_as_the_refresh_sums(engine, SERVICE_USE_MONTHS)
        await _assert_facts_still_current(engine)
        await _assert_downgrade_drops(url, engine, "c5e8a1f3d926", "report_service_use_month")


async def test_waits_are_summed_per_month_and_histogram(backend, session_tmp):
    """The revision adding the monthly counts by histogram of waits sums the referral facts
    already derived per month, role, source system and histogram: every referral (`wait` 0,
    `days` 0), and those with a first attended contact (1) and those closed (2) by their days;
    and the reason facts' rows, group rows and the group rows that are their referral's first,
    per month, reason group and histogram, no group under -1; each with its record keys."""
    async with _referral_at(backend, session_tmp, "wait_months", "e1b7c4a9f358") as (url, engine):
        at = datetime(2026, 10, 1, tzinfo=UTC)
        # (referral, days to first contact, days to closure, record key)
        referrals = ((1, 3, 40, 10), (2, 3, 40, 20), (3, 0, None, 30), (4, None, None, 40))
        # (referral, reason, group, group first, referral first)
        reasons = ((1, 5, 1, 1, 1), (1, 6, 1, 0, 0), (2, 7, None, 1, 1), (3, 5, 1, 1, 0))
        async with engine.begin() as connection:
            for key, first, closure, record_key in referrals:
                await _insert_referral_fact(
                    connection,
                    key,
                    first_contact_days=first,
                    closure_days=closure,
                    record_key=record_key,
                )
            for key, reason, group, group_first, first in reasons:
                _, first_days, closure_days, record_key = referrals[key - 1]
                await _insert_reason_fact(
                    connection,
                    key,
                    reason,
                    reason_group=group,
                    group_first=group_first,
                    referral_first=first,
                    first_contact_days=first_days,
                    closure_days=closure_days,
                    record_key=record_key,
                    **_FACT_DIMENSIONS,
                )
            await _facts_vouched_for(connection, at)
        await _upgrade_to_head(url)
        assert await _selected(
            engine,
            "SELECT wait, days, referrals, referrals_cell_key FROM report_wait_month "
            "WHERE month = 321 AND role = 1 AND source_system = 1 ORDER BY 1, 2",
        ) == [(0, 0, 4, 100), (1, 0, 1, 30), (1, 3, 2, 30), (2, 40, 2, 30)]
        assert await _selected(
            engine,
            "SELECT reason_group, wait, days, reasons, group_rows, group_rows_cell_key, "
            "first_rows, first_rows_cell_key FROM report_reason_wait_month ORDER BY 1, 2, 3",
        ) == [
            (-1, 0, 0, 1, 1, 20, 1, 20),
            (-1, 1, 3, 1, 1, 20, 1, 20),
            (-1, 2, 40, 1, 1, 20, 1, 20),
            (1, 0, 0, 3, 2, 40, 1, 10),
            (1, 1, 0, 1, 1, 30, 0, 0),
            (1, 1, 3, 2, 1, 10, 1, 10),
            (1, 2, 40, 2, 1, 10, 1, 10),
        ]
        await _assert_summed_as_the_refresh_sums(engine, WAIT_MONTHS)
        await _assert_summed_as_the_refresh_sums(engine, REASON_WAIT_MONTHS)
        await _assert_facts_still_current(engine)
        await _assert_downgrade_drops(url, engine, "e1b7c4a9f358", "report_reason_wait_month")
        await _assert_downgrade_drops(url, engine, "e1b7c4a9f358", "report_wait_month")


async def test_activity_is_summed_per_role_worker_and_outcome(backend, session_tmp):
    """The revision adding the workers' activity totals sums the activity facts already derived
    per role, worker and attendance outcome (none under -1): every row, the contact rows and
    each first-row flag, each with its record keys."""
    async with _referral_at(backend, session_tmp, "activity", "f3a9c6d1e284") as (url, engine):
        at = datetime(2026, 10, 1, tzinfo=UTC)
        # (referral, contact, worker, role, outcome, record key, first-row flags set)
        activity = (
            (1, 0, 7, 1, None, 10, ("first_of_referral", "first_of_referral_role")),
            (1, 1, 7, 1, 1, 10, ("first_of_contact", "first_of_contact_worker")),
            (1, 1, 8, 1, 1, 10, ("first_of_referral_worker", "first_of_contact_role")),
            (2, 1, 7, 1, 2, 20, ("first_of_referral", "first_of_referral_role_worker")),
            (2, 2, 7, 2, 1, 20, ("first_of_referral_role", "first_of_contact")),
        )
        flags = dict.fromkeys(ACTIVITY_FLAGS, 0)
        async with engine.begin() as connection:
            for key, contact, worker, role, outcome, record_key, set_ in activity:
                values = {
                    "referral_key": key,
                    "contact": contact,
                    "worker": worker,
                    "role": role,
                    "outcome": outcome,
                    "record_key": record_key,
                    "day": date(2026, 10, 1),
                    **flags,
                    **dict.fromkeys(set_, 1),
                }
                await connection.execute(
                    text(
                        f"INSERT INTO report_activity ({', '.join(values)}) "  # noqa: S608
                        f"VALUES ({', '.join(':' + name for name in values)})"
                    ),
                    values,
                )
            await _facts_vouched_for(connection, at)
        await _upgrade_to_head(url)
        assert await _selected(
            engine,
            "SELECT role, worker, outcome, activities, activities_cell_key, contacts, "
            "contacts_cell_key, first_of_referral, first_of_referral_cell_key, "
            "first_of_contact_worker FROM report_activity_total ORDER BY 1, 2, 3",
        ) == [
            (1, 7, -1, 1, 10, 0, 0, 1, 10, 0),
            (1, 7, 1, 1, 10, 1, 10, 0, 0, 1),
            (1, 7, 2, 1, 20, 1, 20, 1, 20, 0),
            (1, 8, 1, 1, 10, 1, 10, 0, 0, 0),
            (2, 7, 1, 1, 20, 1, 20, 0, 0, 0),
        ]
        await _assert_summed_as_the_refresh_sums(engine, ACTIVITY_TOTALS)
        await _assert_facts_still_current(engine)
        await _assert_downgrade_drops(url, engine, "f3a9c6d1e284", "report_activity_total")


async def _assert_downgrade_drops(url: str, engine, revision: str, table: str) -> None:
    """Downgrading to `revision` drops `table`."""
    config = alembic_config(find_repo_file("alembic.ini"), "referral", url)
    await asyncio.to_thread(command.downgrade, config, revision)

    def tables(sync_connection) -> list[str]:
        return inspect(sync_connection).get_table_names()

    async with engine.connect() as connection:
        assert table not in await connection.run_sync(tables)
