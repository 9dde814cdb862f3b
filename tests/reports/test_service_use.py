"""Service use before and after: paired counts per measure, by role and reason group, in JSON,
CSV and SVG, with disclosure control."""

import csv
import io
from xml.etree import ElementTree

from tests.reports.conftest import REPORTS, UNSUPPRESSED
from tests.support.reports import Dataset, Person, fields_of

SVG = "{http://www.w3.org/2000/svg}"
HOUSING, HOMELESS, ISOLATION = "105531004", "32911000", "422650009"


def _dataset() -> Dataset:
    d = Dataset()
    a = d.referral(details=Person(), reasons=(HOUSING, ISOLATION))
    d.service_use(a, "gp-appointments", before=10, after=4)
    d.service_use(a, "ae-attendances", before=2, after=0)
    b = d.referral(details=Person(), reasons=(HOUSING,))
    d.service_use(b, "gp-appointments", before=6, after=8)
    c = d.referral(details=Person(), role="care-coordinator", reasons=(ISOLATION,))
    d.service_use(c, "gp-appointments", before=3, after=1)
    e = d.referral(details=Person(), reasons=(HOUSING,))
    d.service_use(e, "gp-appointments", before=5)  # no count after: not paired
    f = d.referral(details=Person(), reasons=(HOUSING,))
    d.service_use(f, "gp-appointments", before=9, after=9, status="entered-in-error")
    return d


async def test_paired_totals_means_and_change_per_measure(load, report):
    await load(_dataset())

    body = await report("service-use", unsuppressed=True)

    rows = {r["measure"]: r for r in body["rows"]}
    assert set(rows) == {"gp-appointments", "ae-attendances"}
    gp = rows["gp-appointments"]
    # a 10 -> 4, b 6 -> 8, c 3 -> 1.
    expected = {
        "measure_label": "GP appointments attended",
        "pairs": 3,
        "people": 3,
        "total_before": 19.0,
        "total_after": 13.0,
        "mean_before": 6.3,
        "mean_after": 4.3,
        "mean_change": -2.0,
        "fewer": 2,
        "fewer_rate": 66.7,
    }
    assert fields_of(gp, expected) == expected
    ae = rows["ae-attendances"]
    assert (ae["pairs"], ae["total_before"], ae["total_after"], ae["mean_change"]) == (
        1,
        2.0,
        0.0,
        -2.0,
    )
    assert [r["measure"] for r in body["rows"]] == ["gp-appointments", "ae-attendances"]


async def test_per_role_and_reason_group_with_totals_counting_each_referral_once(load, report):
    await load(_dataset())

    body = await report("service-use", unsuppressed=True, group_by="role,reason-group")

    cells = {
        (r["role"], r["reason_group"], r["measure"]): (
            r["pairs"],
            r["total_before"],
            r["total_after"],
        )
        for r in body["rows"]
    }
    assert cells == {
        ("social-prescribing-link-worker", "housing", "gp-appointments"): (2, 16.0, 12.0),
        ("social-prescribing-link-worker", "isolation-loneliness", "gp-appointments"): (
            1,
            10.0,
            4.0,
        ),
        ("social-prescribing-link-worker", "housing", "ae-attendances"): (1, 2.0, 0.0),
        ("social-prescribing-link-worker", "isolation-loneliness", "ae-attendances"): (1, 2.0, 0.0),
        ("care-coordinator", "isolation-loneliness", "gp-appointments"): (1, 3.0, 1.0),
    }
    totals = {t["measure"]: (t["pairs"], t["total_before"]) for t in body["totals"]}
    assert totals == {"gp-appointments": (3, 19.0), "ae-attendances": (1, 2.0)}
    assert any("counts once under each" in note for note in body["notes"])


async def test_per_role_totals_add_up_the_roles_and_count_a_person_in_two_roles_once(load, report):
    d = Dataset()
    a = d.referral(details=Person(), person="ada", reasons=(HOUSING,))
    d.service_use(a, "gp-appointments", before=10, after=4)
    b = d.referral(details=Person(), person="ada", role="care-coordinator", reasons=(HOUSING,))
    d.service_use(b, "gp-appointments", before=6, after=8)
    c = d.referral(details=Person(), person="bo", role="care-coordinator", reasons=(HOUSING,))
    d.service_use(c, "gp-appointments", before=3, after=1)
    await load(d)

    body = await report("service-use", unsuppressed=True, group_by="role")

    cells = {
        r["role"]: (r["pairs"], r["people"], r["total_before"], r["total_after"], r["fewer"])
        for r in body["rows"]
    }
    assert cells == {
        "social-prescribing-link-worker": (1, 1, 10.0, 4.0, 1),
        "care-coordinator": (2, 2, 9.0, 9.0, 1),
    }
    [total] = body["totals"]
    assert (
        total["measure"],
        total["pairs"],
        total["people"],
        total["total_before"],
        total["total_after"],
        total["fewer"],
        total["mean_change"],
    ) == ("gp-appointments", 3, 2, 19.0, 13.0, 2, -2.0)


async def test_filters_select_referrals_by_their_dimensions(load, report):
    await load(_dataset())

    body = await report("service-use", unsuppressed=True, role="care-coordinator")

    assert [(r["measure"], r["pairs"], r["mean_change"]) for r in body["rows"]] == [
        ("gp-appointments", 1, -2.0)
    ]


async def test_small_numbers_are_suppressed_and_their_totals_and_means_withheld(load, report):
    await load(_dataset())

    body = await report("service-use")

    for row in body["rows"]:
        assert (row["pairs"], row["total_before"], row["mean_change"]) == (None, None, None)
        assert {"pairs", "total_before", "total_after", "mean_change"} <= set(row["suppressed"])
        assert row["fewer_rate"] is None


async def test_enough_pairs_are_published_rounded(load, report):
    d = Dataset()
    for index in range(40):
        referral = d.referral(details=Person())
        d.service_use(referral, "emergency-admissions", before=2, after=index % 2)
    await load(d)

    [row] = (await report("service-use"))["rows"]

    assert row["pairs"] % 5 == 0 and 30 <= row["pairs"] <= 50
    assert (row["total_before"], row["total_after"], row["mean_change"]) == (80.0, 20.0, -1.5)
    assert row["suppressed"] == []


async def test_csv_and_svg_carry_the_same_figures(load, client):
    await load(_dataset())
    params = {"disclosure": "none"}

    as_csv = await client.get(
        "/reports/service-use", params={**params, "format": "csv"}, headers=UNSUPPRESSED
    )
    as_svg = await client.get(
        "/reports/service-use", params={**params, "format": "svg"}, headers=UNSUPPRESSED
    )

    assert as_csv.status_code == 200
    assert as_csv.headers["content-type"].startswith("text/csv")
    table = [r for r in csv.DictReader(io.StringIO(as_csv.text)) if r["row_type"] == "row"]
    gp = next(r for r in table if r["measure"] == "gp-appointments")
    assert (gp["pairs"], gp["total_before"], gp["mean_change"]) == ("3", "19.0", "-2.0")
    assert as_svg.status_code == 200
    root = ElementTree.fromstring(as_svg.text)  # noqa: S314 (our own SVG)
    bars = [r for r in root.iter(f"{SVG}rect") if "bar" in (r.get("class") or "")]
    assert sorted(b.get("data-value") for b in bars) == ["-2.0", "-2.0"]
    assert all(b.get("class") == "bar negative" for b in bars)


async def test_the_catalogue_lists_the_report(client):
    catalogue = (await client.get("/reports", headers=REPORTS)).json()

    assert "service-use" in [r["name"] for r in catalogue["reports"]]


async def test_people_are_counted_once_per_measure_and_group_however_the_range_starts(load, report):
    """From the first of a month, unfiltered, people are counted by their previous month per
    measure and group (docs/reports.md); from mid-month, or filtered, by their distinct
    pseudonyms. Both count what a hand count gives: Ann, referred before the range, twice in
    March and once as a connector in April, is one person per measure and group; a pair counts
    once in each reason group of its referral (two housing reasons are one group), and the
    totals count it once."""
    d = Dataset()
    connector = "community-connector"
    before_range = d.referral(authored="2026-01-10", person="ann", reasons=(HOUSING,))
    march = d.referral(authored="2026-03-02", person="ann", reasons=(HOUSING,))
    both = d.referral(authored="2026-03-20", person="ann", reasons=(HOUSING, HOMELESS, ISOLATION))
    april = d.referral(authored="2026-04-05", person="ann", role=connector, reasons=(ISOLATION,))
    bob = d.referral(authored="2026-04-07", person="bob", reasons=(ISOLATION,))
    for referral in (before_range, march, both, april, bob):
        d.service_use(referral, "gp-appointments", before=4, after=2)
    d.service_use(both, "ae-attendances", before=1, after=0)
    await load(d)

    def counts(body):
        def key(row):
            return tuple(row.get(name) for name in ("role", "reason_group", "measure"))

        rows = {key(r): (r["pairs"], r["people"]) for r in body["rows"]}
        totals = {
            t["measure"]: (t["pairs"], t["people"], t["total_before"]) for t in body["totals"]
        }
        return rows, totals

    gp, ae = "gp-appointments", "ae-attendances"
    link_worker = "social-prescribing-link-worker"
    totals = {gp: (4, 2, 16.0), ae: (1, 1, 1.0)}
    expected = {
        "": ({(None, None, gp): (4, 2), (None, None, ae): (1, 1)}, totals),
        "role": (
            {
                (link_worker, None, gp): (3, 2),
                (connector, None, gp): (1, 1),
                (link_worker, None, ae): (1, 1),
            },
            totals,
        ),
        "reason-group": (
            {
                (None, "housing", gp): (2, 1),
                (None, "isolation-loneliness", gp): (3, 2),
                (None, "housing", ae): (1, 1),
                (None, "isolation-loneliness", ae): (1, 1),
            },
            totals,
        ),
        "role,reason-group": (
            {
                (link_worker, "housing", gp): (2, 1),
                (link_worker, "isolation-loneliness", gp): (2, 2),
                (connector, "isolation-loneliness", gp): (1, 1),
                (link_worker, "housing", ae): (1, 1),
                (link_worker, "isolation-loneliness", ae): (1, 1),
            },
            totals,
        ),
    }
    every_role = ",".join((link_worker, connector))
    for group_by, answer in expected.items():
        grouped = {"group_by": group_by} if group_by else {}
        whole_months = await report("service-use", True, **grouped, **{"from": "2026-03-01"})
        assert counts(whole_months) == answer, group_by
        filtered = await report(
            "service-use", True, **grouped, role=every_role, **{"from": "2026-03-01"}
        )
        assert counts(filtered) == answer, group_by
    mid_month = await report(
        "service-use", True, group_by="role,reason-group", **{"from": "2026-03-15"}
    )
    assert counts(mid_month) == (
        {
            (link_worker, "housing", gp): (1, 1),
            (link_worker, "isolation-loneliness", gp): (2, 2),
            (connector, "isolation-loneliness", gp): (1, 1),
            (link_worker, "housing", ae): (1, 1),
            (link_worker, "isolation-loneliness", ae): (1, 1),
        },
        {gp: (3, 2, 12.0), ae: (1, 1, 1.0)},
    )
