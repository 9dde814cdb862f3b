"""Service use: counts posted as Observations or loaded from a CSV extract, one per referral,
measure and period, range-checked; a reload changes nothing; bad rows are listed by line."""

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from referral_api.service_use import load
from signpost_schemas.fhir import profiles
from tests.referral.conftest import READ, WRITE, send
from tests.support.builders import NHS_NUMBERS
from tests.support.clients import bearer
from tests.support.messages import (
    EMIS_REFERRAL_ID,
    assessment,
    emis_patient,
    emis_service_request,
    message,
    new_referral,
    service_use_count,
)
from tests.support.outcomes import has_issue
from tests.support.rows import count_rows, fetch_rows

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


async def _referral(client, referral_app, identifier="EMIS-2026-0001", nhs_number=NHS_NUMBERS[0]):
    """A referral dated 2026-10-01 made by message; its id."""
    request = emis_service_request(identifier=identifier, nhs_number=nhs_number)
    response = await send(
        client,
        message(
            request,
            reason_code="new",
            patient=emis_patient(nhs_number),
            timestamp="2026-10-01T09:05:00Z",
            bundle_id=f"new-{identifier}",
        ),
    )
    assert response.status_code == 200, response.text
    rows = await fetch_rows(
        referral_app,
        "SELECT referral_id FROM referral_identifier WHERE identifier_value = :value",
        value=identifier,
    )
    return rows[0]["referral_id"]


def _count(
    referral_id, measure="gp-appointments", start="2026-04-01", end="2026-09-30", n=9, meta=None
):
    return service_use_count(referral_id, measure, start, end, n, meta)


async def _post(client, body, headers=WRITE):
    return await client.post("/fhir/Observation", json=body, headers=headers)


async def test_a_count_is_kept_served_and_replaced_by_a_newer_one(client, referral_app):
    referral_id = await _referral(client, referral_app)

    created = await _post(client, _count(referral_id))
    assert created.status_code == 201, created.text
    served = created.json()
    assert served["meta"]["profile"] == [profiles.SERVICE_USE_PROFILE]
    assert served["valueInteger"] == 9
    assert created.headers["location"].endswith(f"/fhir/Observation/{served['id']}")

    again = await _post(client, _count(referral_id))
    assert again.status_code == 200
    assert again.json()["meta"]["versionId"] == "1"

    corrected = await _post(client, _count(referral_id, n=7))
    assert corrected.status_code == 200
    assert (corrected.json()["id"], corrected.json()["meta"]["versionId"]) == (served["id"], "2")

    after = await _post(client, _count(referral_id, start="2026-10-01", end="2027-03-31", n=3))
    assert after.status_code == 201
    rows = await fetch_rows(
        referral_app, "SELECT period, count FROM service_use ORDER BY period DESC"
    )
    assert [(r["period"], r["count"]) for r in rows] == [("before", 7), ("after", 3)]

    read = await client.get(f"/fhir/Observation/{served['id']}", headers=READ)
    assert read.status_code == 200
    assert read.json()["valueInteger"] == 7


REFUSED = {
    "a count over 500": (dict(n=501), "value", "Observation.valueInteger"),
    "a negative count": (dict(n=-1), "value", "Observation.valueInteger"),
    "a measure outside the list": (
        dict(measure="pharmacy-visits"),
        "code-invalid",
        "Observation.code",
    ),
    "a period over six months": (
        dict(start="2026-01-01", end="2026-09-30"),
        "business-rule",
        "Observation.effectivePeriod",
    ),
    "a period straddling the referral date": (
        dict(start="2026-08-01", end="2026-11-30"),
        "business-rule",
        "Observation.effectivePeriod",
    ),
    "a sender timestamp in the future": (
        dict(meta={"lastUpdated": "2099-01-01T00:00:00Z"}),
        "value",
        "Observation.meta.lastUpdated",
    ),
    "a period ending before it starts": (
        dict(start="2026-09-30", end="2026-04-01"),
        "value",
        "Observation.effectivePeriod",
    ),
}


@pytest.mark.parametrize("case", REFUSED)
async def test_a_count_out_of_range_is_refused_and_writes_nothing(client, referral_app, case):
    referral_id = await _referral(client, referral_app)
    changes, code, expression = REFUSED[case]

    response = await _post(client, _count(referral_id, **changes))

    assert response.status_code == 422, response.text
    outcome = response.json()
    assert has_issue(outcome, code, expression), outcome
    assert await count_rows(referral_app, "service_use") == 0


async def test_a_count_for_another_person_or_an_unseen_referral_is_refused(client, referral_app):
    referral_id = await _referral(client, referral_app)
    other = _count(referral_id)
    other["subject"]["identifier"]["value"] = NHS_NUMBERS[1]

    wrong_person = await _post(client, other)
    unknown = await _post(client, _count("no-such-referral"))
    not_ours = await _post(
        client, _count(referral_id), bearer("referral:write", "referral:read", ods="Y99999")
    )

    assert wrong_person.status_code == 422
    assert wrong_person.json()["issue"][0]["expression"] == ["Observation.subject.identifier"]
    for response in (unknown, not_ours):
        assert response.status_code == 422
        assert response.json()["issue"][0]["code"] == "not-found"
    assert await count_rows(referral_app, "service_use") == 0


EXTRACT = """nhs_number,referral_identifier,measure,period,count
{nhs},{system}|EMIS-2026-0001,gp-appointments,before,9
{nhs},EMIS-2026-0001,gp-appointments,after,4
{nhs},EMIS-2026-0001,ae-attendances,before,501
{nhs},EMIS-2026-0001,ae-attendances,during,1
{other},EMIS-2026-0001,emergency-admissions,before,1
{nhs},EMIS-0000-9999,emergency-admissions,before,1
{nhs},EMIS-2026-0001,emergency-admissions,before,2
"""


async def test_an_extract_keeps_good_rows_lists_bad_ones_and_reloads_idempotently(
    client, referral_app
):
    await _referral(client, referral_app)
    text = EXTRACT.format(nhs=NHS_NUMBERS[0], other=NHS_NUMBERS[1], system=EMIS_REFERRAL_ID)

    async with referral_app.state.database.sessionmaker() as session, session.begin():
        first = await load.load(session, text, NOW)
    async with referral_app.state.database.sessionmaker() as session, session.begin():
        second = await load.load(session, text, NOW)

    assert dict(first.outcomes) == {"created": 3}
    assert [line for line, _ in first.errors] == [4, 5, 6, 7]
    reasons = dict(first.errors)
    assert "out of range" in reasons[4]
    assert "before or after" in reasons[5]
    assert "not the person" in reasons[6]
    assert "no referral" in reasons[7]
    assert NHS_NUMBERS[1] not in " ".join(reasons.values())
    assert dict(second.outcomes) == {"unchanged": 3}
    assert second.errors == first.errors
    rows = await fetch_rows(
        referral_app,
        "SELECT measure, period, count, version, origin, period_start_on, period_end_on "
        "FROM service_use ORDER BY measure, period DESC",
    )
    assert [(r["measure"], r["period"], r["count"], r["version"]) for r in rows] == [
        ("emergency-admissions", "before", 2, 1),
        ("gp-appointments", "before", 9, 1),
        ("gp-appointments", "after", 4, 1),
    ]
    assert {r["origin"] for r in rows} == {"extract"}
    # Six calendar months before the referral date (2026-10-01), and from it.
    assert (str(rows[1]["period_start_on"]), str(rows[1]["period_end_on"])) == (
        "2026-04-01",
        "2026-09-30",
    )
    assert (str(rows[2]["period_start_on"]), str(rows[2]["period_end_on"])) == (
        "2026-10-01",
        "2027-03-31",
    )


async def test_the_load_command_exits_1_when_rows_were_refused(
    client, referral_app, referral_database, tmp_path: Path, capsys
):
    await _referral(client, referral_app)
    extract = tmp_path / "service-use.csv"
    extract.write_text(
        EXTRACT.format(nhs=NHS_NUMBERS[0], other=NHS_NUMBERS[1], system=EMIS_REFERRAL_ID)
    )

    # The command starts its own event loop: run it off the test's.
    status = await asyncio.to_thread(load.main, [str(extract), "--database-url", referral_database])

    assert status == 1
    captured = capsys.readouterr()
    assert "3 created; 4 rows refused" in captured.out
    assert "line 4:" in captured.err
    assert await count_rows(referral_app, "service_use") == 3


def _in_message(*counts, bundle_id="service-use-1"):
    request = emis_service_request()
    for count in counts:
        count["basedOn"] = [{"reference": f"ServiceRequest/{request['id']}"}]
        count.pop("subject", None)
    return new_referral(
        *counts, request=request, timestamp="2026-10-06T09:05:00Z", bundle_id=bundle_id
    )


async def test_a_referral_message_may_carry_counts_before_and_after(client, referral_app):
    before = _count("x", measure="ae-attendances", start="2026-04-01", end="2026-09-30", n=2)
    after = _count("x", measure="ae-attendances", start="2026-10-01", end="2027-03-31", n=0)

    response = await send(client, _in_message(before, after))
    replay = await send(client, _in_message(before, after, bundle_id="service-use-2"))

    assert response.status_code == 200, response.text
    assert replay.status_code == 200, replay.text
    rows = await fetch_rows(
        referral_app, "SELECT period, count, origin, version FROM service_use ORDER BY period"
    )
    assert [(r["period"], r["count"], r["origin"], r["version"]) for r in rows] == [
        ("after", 0, "message", 1),
        ("before", 2, "message", 1),
    ]
    assert await count_rows(referral_app, "assessment") == 0


async def test_a_count_straddling_the_referral_in_a_message_is_refused(client, referral_app):
    straddling = _count("x", start="2026-08-01", end="2026-11-30")

    response = await send(client, _in_message(straddling))

    assert response.status_code == 422, response.text
    [issue] = response.json()["issue"]
    assert issue["expression"] == ["Bundle.entry[3].resource.effectivePeriod"]
    assert await count_rows(referral_app, "referral") == 0
    assert await count_rows(referral_app, "service_use") == 0


async def test_a_search_by_referral_finds_counts_beside_wellbeing_assessments(client, referral_app):
    response = await send(
        client,
        new_referral(
            assessment("w1", "wemwbs", "baseline", "2026-10-02", total=40),
            timestamp="2026-10-06T09:05:00Z",
            bundle_id="with-an-assessment",
        ),
    )
    assert response.status_code == 200, response.text
    [row] = await fetch_rows(referral_app, "SELECT id FROM referral")
    referral_id = row["id"]
    for start, end in (("2026-04-01", "2026-09-30"), ("2026-10-01", "2027-03-31")):
        assert (await _post(client, _count(referral_id, start=start, end=end))).status_code == 201

    found = await client.get(
        "/fhir/Observation",
        params={"based-on": f"ServiceRequest/{referral_id}", "_count": 2},
        headers=READ,
    )

    bundle = found.json()
    assert bundle["total"] == 3
    # Ordered by date (a count by its first day): before, after (from the referral date), then
    # the assessment of the next day on the second page.
    assert [e["resource"]["code"]["coding"][0]["code"] for e in bundle["entry"]] == [
        "gp-appointments",
        "gp-appointments",
    ]
    assert any(link["relation"] == "next" for link in bundle["link"])
