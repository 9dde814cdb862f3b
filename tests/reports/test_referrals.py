"""Referrals and people: grouped by one or two dimensions, filtered by any combination, people
counted by a keyed pseudonym, and kept current as referrals change."""

import httpx
from fastapi import FastAPI

from referral_api.config import ReferralSettings
from referral_api.main import create_app
from referral_api.reports import facts
from tests.reports.conftest import REPORTS, UNSUPPRESSED
from tests.support.builders import service_request
from tests.support.clients import bearer, running
from tests.support.reports import Dataset, Person


def _by(rows, *keys):
    return {tuple(row[k] for k in keys) if len(keys) > 1 else row[keys[0]]: row for row in rows}


def _people_dataset() -> Dataset:
    """Eight referrals of six people over two months, two PCNs, three roles."""
    d = Dataset()
    east = Person(practice="F84001", pcn="U00001")
    west = Person(
        practice="F84003",
        pcn="U00002",
        gender="male",
        ethnic_category="N",
        age_band="25-34",
        lsoa="E01000158",
    )
    # Referrals a care navigator sent from the mental health trust's RiO.
    from_rio = {"role": "care-navigator", "source": "mental-health", "source_system": "rio"}
    d.referral(authored="2026-01-05", person="ann", details=east)
    d.referral(authored="2026-01-09", person="ann", details=east, **from_rio)
    d.referral(authored="2026-01-20", person="bob", details=west)
    d.referral(authored="2026-01-31", person="cat", details=east, **from_rio)
    d.referral(authored="2026-02-01", person="dan", details=west)
    d.referral(
        authored="2026-02-14",
        person="bob",
        details=west,
        role="community-connector",
        source="self",
        source_system="api",
    )
    d.referral(authored="2026-02-28", person="eve", details=None, source=None)
    d.referral(authored="2026-03-01", person="fay", details=east)
    return d


async def test_referrals_and_people_by_month(load, report):
    await load(_people_dataset())
    body = await report("referrals", unsuppressed=True, group_by="month")
    assert [(r["month"], r["referrals"], r["people"]) for r in body["rows"]] == [
        ("2026-01", 4, 3),
        ("2026-02", 3, 3),
        ("2026-03", 1, 1),
    ]
    # Bob is in January and February: six people in all, not seven.
    assert (body["totals"][0]["referrals"], body["totals"][0]["people"]) == (8, 6)
    assert [c["name"] for c in body["columns"]] == ["month", "referrals", "people"]


async def test_referrals_by_pcn_practice_role_and_source(load, report):
    await load(_people_dataset())
    pcn = _by((await report("referrals", unsuppressed=True, group_by="pcn"))["rows"], "pcn")
    assert {k: (v["referrals"], v["people"]) for k, v in pcn.items()} == {
        "U00001": (4, 3),
        "U00002": (3, 2),
        None: (1, 1),
    }
    practice = (await report("referrals", unsuppressed=True, group_by="practice"))["rows"]
    assert [(r["practice"], r["referrals"]) for r in practice] == [
        ("F84001", 4),
        ("F84003", 3),
        (None, 1),
    ]
    role = (await report("referrals", unsuppressed=True, group_by="role"))["rows"]
    assert [(r["role"], r["role_label"], r["referrals"]) for r in role] == [
        ("social-prescribing-link-worker", "Social prescribing link worker", 5),
        ("care-navigator", "Care navigator", 2),
        ("community-connector", "Community connector", 1),
    ]
    source = _by(
        (await report("referrals", unsuppressed=True, group_by="source"))["rows"], "source"
    )
    assert {k: v["referrals"] for k, v in source.items()} == {
        "primary-care": 4,
        "mental-health": 2,
        "self": 1,
        None: 1,
    }


async def test_two_group_bys_and_a_combination_of_filters(load, report):
    await load(_people_dataset())
    body = await report("referrals", unsuppressed=True, group_by="pcn,role")
    assert {(r["pcn"], r["role"]): r["referrals"] for r in body["rows"]} == {
        ("U00001", "social-prescribing-link-worker"): 2,
        ("U00001", "care-navigator"): 2,
        ("U00002", "social-prescribing-link-worker"): 2,
        ("U00002", "community-connector"): 1,
        (None, "social-prescribing-link-worker"): 1,
    }
    west = await report(
        "referrals",
        unsuppressed=True,
        group_by="month",
        **{
            "gender": "male",
            "ethnicity": "black-or-black-british",
            "ethnic-category": "N",
            "age-band": "25-34",
            "imd-decile": "1",
            "pcn": "u00002",
            "practice": "F84003",
            "source": "primary-care,self",
            "source-system": "emis,api",
            "from": "2026-01-01",
            "to": "2026-02-14",
        },
    )
    assert [(r["month"], r["referrals"], r["people"]) for r in west["rows"]] == [
        ("2026-01", 1, 1),
        ("2026-02", 2, 2),
    ]
    assert west["parameters"]["filters"]["pcn"] == ["U00002"]
    # The last day is included; the next is not.
    edge = await report(
        "referrals", unsuppressed=True, **{"from": "2026-02-14", "to": "2026-02-28"}
    )
    assert edge["totals"][0]["referrals"] == 2


async def test_imd_decile_comes_from_the_loaded_lookup_by_lsoa(load, report):
    await load(_people_dataset())
    rows = (await report("referrals", unsuppressed=True, group_by="imd-decile"))["rows"]
    # E01000158 is decile 1 and E01033011 decile 5 in the synthetic sample; no person, no LSOA.
    assert [(r["imd_decile"], r["referrals"]) for r in rows] == [("1", 3), ("5", 4), (None, 1)]


async def test_a_reason_filter_keeps_referrals_with_any_of_the_reasons(load, report):
    d = Dataset()
    d.referral(reasons=("105531004", "160932005"), details=Person())
    d.referral(reasons=("160932005",), details=Person())
    d.referral(reasons=("422650009",), details=Person())
    await load(d)
    housing = await report("referrals", unsuppressed=True, reason="105531004")
    assert housing["totals"][0]["referrals"] == 1
    either = await report("referrals", unsuppressed=True, reason="105531004,422650009")
    assert either["totals"][0]["referrals"] == 2
    finance = await report("referrals", unsuppressed=True, **{"reason-group": "finance"})
    assert finance["totals"][0]["referrals"] == 2


async def test_grouping_referrals_by_reason_counts_each_reason_and_says_so(load, report):
    d = Dataset()
    d.referral(reasons=("105531004", "32911000", "160932005"), details=Person())
    d.referral(reasons=("160932005",), details=Person())
    await load(d)
    body = await report("referrals", unsuppressed=True, group_by="reason-group")
    # Two housing reasons on one referral: it counts once under housing.
    assert {r["reason_group"]: r["referrals"] for r in body["rows"]} == {
        "housing": 1,
        "finance": 2,
    }
    assert body["totals"][0]["referrals"] == 2
    assert any("rows add up to more than" in note for note in body["notes"])


async def test_reports_never_carry_nhs_numbers(load, client):
    dataset = _people_dataset()
    await load(dataset)
    numbers = [dataset.nhs_number(p) for p in ("ann", "bob", "cat", "dan", "eve", "fay")]
    for name in ("referrals", "reasons", "completeness", "re-referrals"):
        for output in ("json", "csv", "svg"):
            response = await client.get(
                f"/reports/{name}",
                params={"format": output, "group_by": "role"},
                headers=UNSUPPRESSED,
            )
            assert response.status_code == 200
            assert not any(number in response.text for number in numbers)


async def test_people_are_keyed_with_the_configured_key(load, referral_app: FastAPI, report):
    dataset = _people_dataset()
    await load(dataset)
    await report("referrals")
    async with referral_app.state.database.engine.connect() as connection:
        from sqlalchemy import text

        keys = set(
            (await connection.execute(text("SELECT person_key FROM report_referral"))).scalars()
        )
    settings = referral_app.state.settings
    assert keys == {
        facts.person_key(dataset.nhs_number(p), settings.pseudonym_key)
        for p in ("ann", "bob", "cat", "dan", "eve", "fay")
    }


async def test_a_referral_made_or_changed_through_the_api_is_reported_at_once(
    lookups, client: httpx.AsyncClient, report
):
    write = bearer("referral:write", "referral:read", "referral:all-organisations")
    created = await client.post("/fhir/ServiceRequest", json=service_request(), headers=write)
    assert created.status_code == 201
    body = await report("referrals", unsuppressed=True, group_by="role")
    assert [(r["role"], r["referrals"]) for r in body["rows"]] == [
        ("social-prescribing-link-worker", 1)
    ]
    resource = created.json()
    resource["performerType"]["coding"][0]["code"] = "care-navigator"
    updated = await client.put(
        f"/fhir/ServiceRequest/{resource['id']}",
        json=resource,
        headers={**write, "If-Match": 'W/"1"'},
    )
    assert updated.status_code == 200
    body = await report("referrals", unsuppressed=True, group_by="role")
    assert [(r["role"], r["referrals"]) for r in body["rows"]] == [("care-navigator", 1)]
    reasons = await report("reasons", unsuppressed=True)
    assert {r["reason"] for r in reasons["rows"]} == {"105531004", "160932005", "422650009"}


async def test_a_service_with_another_pseudonym_key_refuses_reports_until_rekeyed(
    load, referral_database: str, referral_app: FastAPI, client: httpx.AsyncClient
):
    await load(_people_dataset())
    assert (await client.get("/reports/referrals", headers=REPORTS)).status_code == 200
    rotated = ReferralSettings(
        database_url=referral_database,
        environment="test",
        pseudonym_key="a-new-key-for-this-test-only-0123456789",
    )
    app = create_app(rotated)
    async with running(app, "http://referral.test") as other:
        refused = await other.get("/reports/referrals", headers=REPORTS)
        assert refused.status_code == 503
        assert refused.headers["content-type"] == "application/problem+json"
        assert "rekey" in refused.json()["detail"]
        await facts.rebuild(
            app.state.database.sessionmaker,
            rotated.pseudonym_key,
            rotated.disclosure_key,
            rekeyed=True,
        )
        served = await other.get("/reports/referrals", headers=UNSUPPRESSED)
        assert served.status_code == 200
        assert served.json()["totals"][0]["people"] == 6
    # The old key is now the stranger.
    assert (await client.get("/reports/referrals", headers=REPORTS)).status_code == 503
    await facts.rebuild(
        referral_app.state.database.sessionmaker,
        ReferralSettings().pseudonym_key,
        ReferralSettings().disclosure_key,
        rekeyed=True,
    )


async def test_people_over_whole_months_are_counted_once_at_their_first_referral_in_range(
    load, client: httpx.AsyncClient, report
):
    """From the first of a month, people are counted by their previous month in the group
    (docs/reports.md): a person referred before the range is still counted, once, and a later
    referral in the same group, however it arrives, never counts them again. A range from
    mid-month is counted by DISTINCT, with the same meaning."""
    earlier = Dataset()
    connector = "community-connector"
    earlier.referral(authored="2026-01-10", person="ann")  # before the range, same role
    earlier.referral(authored="2026-03-02", person="ann")
    earlier.referral(authored="2026-03-20", person="ann")
    earlier.referral(authored="2026-04-05", person="ann", role=connector)
    earlier.referral(authored="2026-04-07", person="bob")
    await load(earlier)

    def counts(body):
        rows = {
            r.get("role") or r.get("month"): (r["referrals"], r["people"]) for r in body["rows"]
        }
        total = body["totals"][0]
        return rows, (total["referrals"], total["people"])

    march = {"from": "2026-03-01"}
    by_role = await report("referrals", unsuppressed=True, group_by="role", **march)
    assert counts(by_role) == (
        {"social-prescribing-link-worker": (3, 2), connector: (1, 1)},
        (4, 2),
    )
    by_month = await report("referrals", unsuppressed=True, group_by="month", **march)
    assert counts(by_month) == ({"2026-03": (2, 1), "2026-04": (2, 2)}, (4, 2))
    whole = await report("referrals", unsuppressed=True, **{"from": "2026-01-01"})
    assert counts(whole)[1] == (5, 2)
    mid_month = await report(
        "referrals", unsuppressed=True, group_by="role", **{"from": "2026-03-15"}
    )
    assert counts(mid_month) == (
        {"social-prescribing-link-worker": (2, 2), connector: (1, 1)},
        (3, 2),
    )

    # Another referral of Ann's, sent through the API, is derived by a refresh of her
    # referrals alone.
    ann = earlier.nhs_number("ann")
    sent = service_request(nhs_number=ann, role=connector, authored="2026-04-20T10:00:00Z")
    write = bearer("referral:write", "referral:all-organisations")
    assert (await client.post("/fhir/ServiceRequest", json=sent, headers=write)).status_code == 201
    by_role = await report("referrals", unsuppressed=True, group_by="role", **march)
    assert counts(by_role) == (
        {"social-prescribing-link-worker": (3, 2), connector: (2, 1)},
        (5, 2),
    )
    by_month = await report("referrals", unsuppressed=True, group_by="month", **march)
    assert counts(by_month) == ({"2026-03": (2, 1), "2026-04": (3, 2)}, (5, 2))
