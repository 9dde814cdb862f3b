"""The data-quality report: referrals kept with data gaps, per source system, sender and month
received, counted as referrals (not gap rows), with the codes Signpost could not map."""

from datetime import date

import pytest
from fastapi import FastAPI
from sqlalchemy import text

from referral_api.quality.repository import GapRepository
from referral_api.reports import facts
from referral_api.reports.data_quality import REASON_ELEMENT
from referral_api.reports.expressions import month_of_day
from signpost_schemas import systems
from signpost_schemas.fhir.gaps import Gap, GapKind
from tests.referral.conftest import WRITE
from tests.support.builders import NHS_NUMBERS, service_request
from tests.support.clients import bearer
from tests.support.reports import CODE_A, NO_SOURCE, Dataset, unmapped

CODE_B = f"{systems.SNOMED}|224130005"


def text_only(index: int) -> Gap:
    return Gap(GapKind.UNCODED_TEXT, f"{REASON_ELEMENT}[{index}]", "reason as text only")


NO_NHS_NUMBER = Gap(GapKind.NO_NHS_NUMBER, "ServiceRequest.subject.identifier", "local number")
NOT_INTERPRETED = Gap(GapKind.NOT_INTERPRETED, "ServiceRequest.note[0]", "kept as sent")
REMOVED = Gap(GapKind.REMOVED_PERSONAL_DATA, "Patient.address[0].line", "not kept")
OTHER = Gap(GapKind.NOT_RECORDED, "ServiceRequest.performer", "no receiving organisation")


def _senders() -> Dataset:
    """emis F84001 in January: 4 referrals, 3 with gaps; in February (received then, though
    referred in January): 1 with no NHS number. rio Y02345 in January: 2, one with gaps."""
    d = Dataset()
    jan = {"source_system": "emis", "sender": "F84001", "authored": "2026-01-10"}
    first = d.referral(**jan)
    d.gaps(first, text_only(0), text_only(1), unmapped(2, CODE_A))  # two text-only: once
    second = d.referral(**jan)
    d.gaps(second, unmapped(0, CODE_A), unmapped(1, CODE_B))
    third = d.referral(**jan)
    d.gaps(third, NO_SOURCE)
    d.referral(**jan)
    late = d.referral(
        source_system="emis", sender="F84001", authored="2026-01-30", received="2026-02-02"
    )
    d.gaps(late, NO_NHS_NUMBER)
    rio = {"source_system": "rio", "sender": "Y02345", "authored": "2026-01-20"}
    trust = d.referral(**rio)
    d.gaps(trust, NOT_INTERPRETED, REMOVED, OTHER, unmapped(0, CODE_B))
    d.referral(**rio)
    return d


MEASURES = (
    "referrals",
    "with_gap",
    "no_source",
    "unmapped_reason",
    "text_only_reason",
    "no_nhs_number",
    "not_interpreted",
    "personal_data_removed",
    "other_gap",
)


def _cells(row: dict) -> tuple[int, ...]:
    return tuple(row[name] for name in MEASURES)


async def test_warnings_count_referrals_per_source_system_sender_and_month_received(load, report):
    await load(_senders())

    body = await report("data-quality", unsuppressed=True)

    assert body["parameters"]["group_by"] == ["source-system", "sender", "month"]
    rows = {(r["source_system"], r["sender"], r["month"]): _cells(r) for r in body["rows"]}
    assert rows == {
        ("emis", "F84001", "2026-01"): (4, 3, 1, 2, 1, 0, 0, 0, 0),
        ("emis", "F84001", "2026-02"): (1, 1, 0, 0, 0, 1, 0, 0, 0),
        ("rio", "Y02345", "2026-01"): (2, 1, 0, 1, 0, 0, 1, 1, 1),
    }
    assert [r["month"] for r in body["rows"]] == ["2026-01", "2026-02", "2026-01"]
    total = body["totals"][0]
    assert _cells(total) == (7, 5, 1, 3, 1, 1, 1, 1, 1)
    january = body["rows"][0]
    assert (january["with_gap_rate"], january["unmapped_reason_rate"]) == (75.0, 50.0)
    assert (january["no_source_rate"], january["no_nhs_number_rate"]) == (25.0, 0.0)
    assert round(total["unmapped_reason_rate"], 1) == 42.9


async def test_filters_by_sender_source_system_and_date_received(load, report):
    await load(_senders())

    by_sender = await report("data-quality", unsuppressed=True, sender="f84001")
    in_january = await report(
        "data-quality", unsuppressed=True, **{"from": "2026-01-01", "to": "2026-01-31"}
    )
    rio = await report("data-quality", unsuppressed=True, **{"source-system": "rio"})

    assert {r["sender"] for r in by_sender["rows"]} == {"F84001"}
    assert by_sender["parameters"]["filters"] == {"sender": ["F84001"]}
    assert by_sender["totals"][0]["referrals"] == 5
    # Referred in January but received in February: outside January's report.
    assert in_january["totals"][0]["referrals"] == 6
    assert in_january["totals"][0]["no_nhs_number"] == 0
    assert [(r["sender"], r["referrals"]) for r in rio["rows"]] == [("Y02345", 2)]


async def test_group_by_sender_over_the_whole_period(load, report):
    await load(_senders())

    body = await report("data-quality", unsuppressed=True, group_by="sender")

    assert [c["name"] for c in body["columns"]][:2] == ["sender", "referrals"]
    assert {r["sender"]: _cells(r) for r in body["rows"]} == {
        "F84001": (5, 4, 1, 2, 1, 1, 0, 0, 0),
        "Y02345": (2, 1, 0, 1, 0, 0, 1, 1, 1),
    }


async def test_unmapped_codes_ranked_per_group_with_totals_per_code(load, report):
    await load(_senders())

    body = await report("data-quality", unsuppressed=True, view="unmapped-codes", group_by="sender")
    top = await report(
        "data-quality", unsuppressed=True, view="unmapped-codes", group_by="sender", limit="1"
    )

    rows = [(r["sender"], r["element"], r["code"], r["referrals"]) for r in body["rows"]]
    assert rows == [
        ("F84001", REASON_ELEMENT + ".coding", CODE_A, 2),
        ("F84001", REASON_ELEMENT + ".coding", CODE_B, 1),
        ("Y02345", REASON_ELEMENT + ".coding", CODE_B, 1),
    ]
    first = body["rows"][0]
    assert (first["code_system"], first["code_value"]) == (systems.SNOMED, "1082701000000101")
    assert (first["referrals_received"], first["share"]) == (5, 40.0)
    assert [(r["sender"], r["code"]) for r in top["rows"]] == [
        ("F84001", CODE_A),
        ("Y02345", CODE_B),
    ]
    totals = [(t["code"], t["referrals"], t["referrals_received"]) for t in body["totals"]]
    assert totals == [(CODE_A, 2, 7), (CODE_B, 2, 7), (None, 3, 7)]


def _one_sender(referrals: int, without_source: int) -> Dataset:
    d = Dataset()
    for index in range(referrals):
        referral = d.referral(authored="2026-03-02")
        if index < without_source:
            d.gaps(referral, NO_SOURCE)
    return d


async def test_small_counts_are_suppressed_and_rates_withheld(load, report):
    await load(_one_sender(referrals=20, without_source=3))

    body = await report("data-quality")

    assert body["disclosure"]["controlled"] is True
    row = body["rows"][0]
    assert (row["sender"], row["month"]) == ("F84001", "2026-03")
    assert row["referrals"] in (15, 20, 25)  # 20 adjusted by at most 4, rounded to 5
    assert (row["no_source"], row["no_source_rate"], row["with_gap"]) == (None, None, None)
    assert {"no_source", "no_source_rate", "with_gap"} <= set(row["suppressed"])
    assert (row["unmapped_reason"], row["unmapped_reason_rate"]) == (0, 0.0)
    assert body["totals"][0]["referrals"] == row["referrals"]


async def test_csv_columns_and_svg_chart(load, client):
    await load(_one_sender(referrals=40, without_source=20))
    headers = bearer("reports:read")

    as_csv = await client.get("/reports/data-quality", params={"format": "csv"}, headers=headers)
    as_svg = await client.get(
        "/reports/data-quality", headers={**headers, "Accept": "image/svg+xml"}
    )

    assert as_csv.status_code == 200
    assert as_csv.headers["content-type"].startswith("text/csv")
    lines = as_csv.text.split("\r\n")
    assert lines[0] == (
        "row_type,source_system,sender,month,referrals,with_gap,with_gap_rate,no_source,"
        "no_source_rate,unmapped_reason,unmapped_reason_rate,text_only_reason,"
        "text_only_reason_rate,no_nhs_number,no_nhs_number_rate,not_interpreted,"
        "not_interpreted_rate,personal_data_removed,personal_data_removed_rate,"
        "replaced_characters,replaced_characters_rate,other_gap,other_gap_rate"
    )
    # The CSV publishes what the JSON answer publishes (40 and 20 perturbed by their cell keys).
    row = (await client.get("/reports/data-quality", headers=headers)).json()["rows"][0]
    published = [row["referrals"], row["with_gap"], row["with_gap_rate"]]
    published += [row["no_source"], row["no_source_rate"]]
    assert lines[1] == "row,emis,F84001,2026-03," + ",".join(map(str, published)) + ",0,0.0" * 7
    assert lines[2].startswith("total,,,," + ",".join(map(str, published[:3])))
    assert abs(row["referrals"] - 40) <= 6 and abs(row["with_gap"] - 20) <= 6
    assert as_svg.status_code == 200
    assert as_svg.headers["content-type"].startswith("image/svg+xml")
    assert "<svg" in as_svg.text and "Data quality by sender" in as_svg.text
    assert "emis · F84001 · 2026-03" in as_svg.text


async def test_needs_reports_read(client):
    response = await client.get("/reports/data-quality", headers=bearer("referral:read"))

    assert response.status_code == 403


async def test_refuses_dimensions_and_options_it_does_not_have(client):
    headers = bearer("reports:read")

    by_role = await client.get(
        "/reports/data-quality", params={"group_by": "role"}, headers=headers
    )
    by_month = await client.get(
        "/reports/data-quality", params={"month": "2026-01"}, headers=headers
    )
    bad_view = await client.get("/reports/data-quality", params={"view": "codes"}, headers=headers)
    sender_elsewhere = await client.get(
        "/reports/referrals", params={"sender": "F84001"}, headers=headers
    )

    assert [r.status_code for r in (by_role, by_month, bad_view, sender_elsewhere)] == [400] * 4
    assert by_role.json()["errors"][0]["parameter"] == "group_by"
    assert by_month.json()["errors"][0]["parameter"] == "month"
    assert bad_view.json()["errors"][0]["parameter"] == "view"
    assert sender_elsewhere.json()["errors"][0]["parameter"] == "sender"


async def test_the_counts_follow_gaps_replaced_senders_corrected_and_referrals_deleted(
    load, referral_app: FastAPI, report
):
    """The report sums per-day and per-month counts the refresh keeps: a change must be
    counted again on the day and month, system and sender the referral was counted under, and
    on the ones it is now."""
    d = Dataset()
    jan = {"source_system": "emis", "sender": "F84001", "authored": "2026-01-10"}
    fixed = d.referral(**jan)
    d.gaps(fixed, NO_SOURCE)
    moved = d.referral(**jan)
    d.gaps(moved, text_only(0))
    gone = d.referral(**jan)
    await load(d)

    async def by_sender() -> dict[str, tuple[int, int]]:
        """Per sender over every month (the monthly counts), checked against a period within
        January, which sums the days."""
        months = await report("data-quality", unsuppressed=True, group_by="sender")
        days = await report(
            "data-quality",
            unsuppressed=True,
            group_by="sender",
            **{"from": "2026-01-02", "to": "2026-01-30"},
        )
        counts = {r["sender"]: (r["referrals"], r["with_gap"]) for r in months["rows"]}
        assert {r["sender"]: (r["referrals"], r["with_gap"]) for r in days["rows"]} == counts
        assert months["totals"][0]["referrals"] == days["totals"][0]["referrals"]
        return counts

    assert await by_sender() == {"F84001": (3, 2)}
    async with referral_app.state.database.engine.begin() as connection:
        await connection.execute(
            text("UPDATE referral SET requester_ods = 'B82005' WHERE id = :id"), {"id": moved}
        )
    assert await by_sender() == {"B82005": (1, 1), "F84001": (2, 1)}
    async with referral_app.state.database.sessionmaker() as session, session.begin():
        await GapRepository(session).replace(fixed, [])
    async with referral_app.state.database.engine.begin() as connection:
        await connection.execute(text("DELETE FROM referral WHERE id = :id"), {"id": gone})

    assert await by_sender() == {"B82005": (1, 1), "F84001": (1, 0)}


async def test_a_refresh_counts_the_days_and_months_it_touches_again_as_a_rebuild_would(
    load, referral_app: FastAPI
):
    """The refresh counts again the days and months (with their system and sender) a changed
    referral was or is counted in: the day and month rows it leaves are those a rebuild makes,
    for the sender it changed and for the others."""
    d = Dataset()
    changed = d.referral(source_system="emis", sender="F84001", authored="2026-01-10")
    d.gaps(changed, NO_SOURCE)
    d.referral(source_system="emis", sender="F84001", authored="2026-01-10")
    d.referral(source_system="emis", sender="F84001", authored="2026-01-12")
    d.referral(source_system="rio", sender="Y02345", authored="2026-01-10")
    # On the changed referral's day: another sender of its system, its sender in another system.
    d.referral(source_system="emis", sender="B82005", authored="2026-01-10")
    d.referral(source_system="rio", sender="F84001", authored="2026-01-10")
    d.referral(source_system="emis", sender="F84001", authored="2026-03-05")
    await load(d)
    assert await referral_app.state.report_facts.refresh() == 7
    counts = (
        "referrals, referrals_cell_key, with_gap, with_gap_cell_key, no_source, "
        "text_only_reason, unmapped_reason, no_nhs_number FROM "
    )
    months = "SELECT month, source_system, sender, " + counts + "report_quality_month"
    days = "SELECT received_on, source_system, sender, " + counts + "report_quality_day"

    async def rows(query: str) -> list[tuple[object, ...]]:
        async with referral_app.state.database.engine.connect() as connection:
            ordered = text(query + " ORDER BY 1, 2, 3")
            return [tuple(row) for row in await connection.execute(ordered)]

    async with referral_app.state.database.sessionmaker() as session, session.begin():
        await GapRepository(session).replace(changed, [])
    assert await referral_app.state.report_facts.refresh() == 1
    refreshed_months, refreshed_days = await rows(months), await rows(days)
    january, march = month_of_day(date(2026, 1, 1)), month_of_day(date(2026, 3, 1))
    assert [(row[0], *row[1:6:2]) for row in refreshed_months] == [
        (january, "emis", 1, 0),  # B82005
        (january, "emis", 3, 0),  # F84001, its gap gone
        (january, "rio", 1, 0),  # F84001
        (january, "rio", 1, 0),  # Y02345
        (march, "emis", 1, 0),
    ]
    assert [row[2] for row in refreshed_months] == [
        *("B82005", "F84001", "F84001", "Y02345", "F84001")
    ]
    assert [(str(row[0]), *row[1:6:2]) for row in refreshed_days] == [
        ("2026-01-10", "emis", 1, 0),  # B82005
        ("2026-01-10", "emis", 2, 0),  # F84001, its gap gone
        ("2026-01-10", "rio", 1, 0),  # F84001
        ("2026-01-10", "rio", 1, 0),  # Y02345
        ("2026-01-12", "emis", 1, 0),
        ("2026-03-05", "emis", 1, 0),
    ]

    async with referral_app.state.database.engine.begin() as connection:
        await connection.execute(text("DELETE FROM report_quality_month"))
        await connection.execute(text("DELETE FROM report_quality_day"))
    await facts.rebuild(
        referral_app.state.database.sessionmaker,
        referral_app.state.settings.pseudonym_key,
        referral_app.state.settings.disclosure_key,
    )
    assert await rows(months) == refreshed_months
    assert await rows(days) == refreshed_days


async def test_the_month_received_does_not_depend_on_the_database_time_zone(
    load, referral_app: FastAPI, report, backend
):
    """Received at 10:00 UTC on 1 April: April, even where the database's sessions run in
    British Summer Time (a date read as midnight there is 23:00 UTC on 31 March)."""
    if backend != "postgresql":
        pytest.skip("SQLite sessions have no time zone")
    d = Dataset()
    d.referral(source_system="emis", sender="F84001", authored="2026-03-20", received="2026-04-01")
    await load(d)
    engine = referral_app.state.database.engine
    async with engine.begin() as connection:
        name = (await connection.execute(text("SELECT current_database()"))).scalar_one()
        await connection.execute(text(f"ALTER DATABASE \"{name}\" SET timezone = 'Europe/London'"))
    await engine.dispose()
    try:
        body = await report("data-quality", unsuppressed=True, group_by="month")
    finally:
        async with engine.begin() as connection:
            await connection.execute(text(f'ALTER DATABASE "{name}" RESET timezone'))
        await engine.dispose()

    assert [(r["month"], r["referrals"]) for r in body["rows"]] == [("2026-04", 1)]


async def test_referrals_created_through_the_api_count_with_their_gaps(
    client, referral_app: FastAPI, report
):
    created = []
    for index, requester in enumerate(("F84001", "F84001", "B82005")):
        response = await client.post(
            "/fhir/ServiceRequest",
            json=service_request(
                identifier=f"EMIS-{index}", nhs_number=NHS_NUMBERS[index], requester=requester
            ),
            headers=WRITE,
        )
        assert response.status_code == 201, response.text
        created.append(response.json())
    async with referral_app.state.database.sessionmaker() as session, session.begin():
        gaps = GapRepository(session)
        await gaps.replace(created[0]["id"], [text_only(0), text_only(2), NO_SOURCE])
        await gaps.replace(created[2]["id"], [unmapped(1, CODE_A)])

    body = await report("data-quality", unsuppressed=True)

    month = created[0]["meta"]["lastUpdated"][:7]
    rows = {(r["source_system"], r["sender"], r["month"]): _cells(r) for r in body["rows"]}
    assert rows == {
        ("api", "B82005", month): (1, 1, 0, 1, 0, 0, 0, 0, 0),
        ("api", "F84001", month): (2, 1, 1, 0, 1, 0, 0, 0, 0),
    }


async def test_free_text_with_control_characters_replaced_has_a_warning_of_its_own(client, report):
    """A sender whose export pastes control characters into free text is told so: the
    referral is kept, its characters replaced, and it counts under `replaced_characters`, not
    under "other data gaps"."""
    body = service_request(identifier="EMIS-PASTED", nhs_number=NHS_NUMBERS[0])
    body["reasonCode"][0]["text"] = "Damp flat\x0bmould\x07 in two rooms"
    created = await client.post("/fhir/ServiceRequest", json=body, headers=WRITE)
    assert created.status_code == 201, created.text
    plain = service_request(identifier="EMIS-PLAIN", nhs_number=NHS_NUMBERS[1])
    assert (await client.post("/fhir/ServiceRequest", json=plain, headers=WRITE)).status_code == 201

    answer = await report("data-quality", unsuppressed=True)

    [row] = answer["rows"]
    assert (row["referrals"], row["with_gap"], row["replaced_characters"]) == (2, 1, 1)
    assert row["other_gap"] == 0
    assert row["replaced_characters_rate"] == 50.0
