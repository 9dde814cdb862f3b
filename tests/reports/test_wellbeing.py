"""Wellbeing change: paired baseline and follow-up per score, mean change, direction."""

from xml.etree import ElementTree

from tests.reports.conftest import UNSUPPRESSED
from tests.support.reports import Dataset, Person, fields_of

SVG = "{http://www.w3.org/2000/svg}"


def _dataset() -> Dataset:
    d = Dataset()
    a = d.referral(details=Person(), status="closed", ended_days=90)
    d.assessment(a, "wemwbs", "baseline", 2, total=40)
    d.assessment(a, "wemwbs", "baseline", 5, total=30)  # a later baseline: the first counts
    d.assessment(a, "wemwbs", "follow-up", 40, total=44)
    d.assessment(a, "wemwbs", "discharge", 80, total=50)  # the last follow-up counts
    b = d.referral(details=Person(), status="closed", ended_days=90)
    d.assessment(b, "wemwbs", "baseline", 1, total=50)
    d.assessment(b, "wemwbs", "follow-up", 60, total=46)
    d.assessment(b, "wemwbs", "follow-up", 70, total=20, status="entered-in-error")
    c = d.referral(details=Person(), status="accepted")
    d.assessment(c, "wemwbs", "baseline", 1, total=35)  # no follow-up yet: no pair
    e = d.referral(details=Person(), status="closed", ended_days=60, role="care-navigator")
    d.assessment(e, "ons4", "baseline", 3, items={"ons4-anxiety": 8, "ons4-happiness": 3})
    d.assessment(e, "ons4", "follow-up", 50, items={"ons4-anxiety": 5, "ons4-happiness": 3})
    f = d.referral(details=Person(), status="closed", ended_days=60)
    d.assessment(f, "ons4", "follow-up", 2, items={"ons4-anxiety": 9})
    d.assessment(f, "ons4", "baseline", 30, items={"ons4-anxiety": 2})  # follow-up first
    return d


async def test_paired_change_per_score(load, report):
    await load(_dataset())
    body = await report("wellbeing", unsuppressed=True)
    rows = {r["measure"]: r for r in body["rows"]}
    assert set(rows) == {"wemwbs", "ons4-anxiety", "ons4-happiness"}
    wemwbs = rows["wemwbs"]
    # a: 40 -> 50 (+10); b: 50 -> 46 (-4).
    expected = {
        "instrument": "wemwbs",
        "better": "higher",
        "pairs": 2,
        "mean_baseline": 45.0,
        "mean_follow_up": 48.0,
        "mean_change": 3.0,
        "improved": 1,
        "improved_rate": 50.0,
    }
    assert fields_of(wemwbs, expected) == expected
    anxiety = rows["ons4-anxiety"]
    # Lower anxiety is better: 8 -> 5 improved.
    assert (
        anxiety["instrument"],
        anxiety["better"],
        anxiety["pairs"],
        anxiety["mean_change"],
        anxiety["improved"],
    ) == ("ons4", "lower", 1, -3.0, 1)
    assert (rows["ons4-happiness"]["mean_change"], rows["ons4-happiness"]["improved"]) == (0.0, 0)
    assert wemwbs["measure_label"] == "Warwick-Edinburgh Mental Wellbeing Scale (WEMWBS)"


async def test_change_per_role_with_totals_per_score(load, report):
    await load(_dataset())
    body = await report("wellbeing", unsuppressed=True, group_by="role")
    assert {(r["role"], r["measure"]): r["pairs"] for r in body["rows"]} == {
        ("social-prescribing-link-worker", "wemwbs"): 2,
        ("care-navigator", "ons4-anxiety"): 1,
        ("care-navigator", "ons4-happiness"): 1,
    }
    assert {t["measure"]: t["pairs"] for t in body["totals"]} == {
        "wemwbs": 2,
        "ons4-anxiety": 1,
        "ons4-happiness": 1,
    }


async def test_means_of_fewer_than_eight_pairs_are_withheld(load, report):
    await load(_dataset())
    row = (await report("wellbeing"))["rows"][0]
    assert (row["pairs"], row["mean_change"]) == (None, None)
    assert {"pairs", "mean_baseline", "mean_follow_up", "mean_change"} <= set(row["suppressed"])


async def test_totals_without_a_group_by_carry_the_means(load, report):
    await load(_dataset())
    body = await report("wellbeing", unsuppressed=True)
    totals = {t["measure"]: t for t in body["totals"]}
    assert (
        totals["wemwbs"]["pairs"],
        totals["wemwbs"]["mean_baseline"],
        totals["wemwbs"]["mean_follow_up"],
        totals["wemwbs"]["mean_change"],
    ) == (2, 45.0, 48.0, 3.0)
    assert totals["ons4-anxiety"]["mean_change"] == -3.0


async def test_a_component_that_restates_the_total_is_not_a_second_measure(load, report):
    d = Dataset()
    a = d.referral(details=Person(), status="closed", ended_days=90)
    baseline = {"swemwbs-raw": 20, "swemwbs-metric": 19.25}
    follow_up = {"swemwbs-raw": 24, "swemwbs-metric": 22.35}
    d.assessment(a, "swemwbs", "baseline", 1, total=19.25, items=baseline)
    d.assessment(a, "swemwbs", "follow-up", 60, total=22.35, items=follow_up)
    await load(d)

    body = await report("wellbeing", unsuppressed=True)

    rows = {r["measure"]: r for r in body["rows"]}
    assert set(rows) == {"swemwbs", "swemwbs-raw"}
    assert round(rows["swemwbs"]["mean_change"], 2) == 3.1
    assert rows["swemwbs-raw"]["mean_change"] == 4.0


async def test_the_chart_draws_falls_left_of_zero_and_a_bar_for_every_row(load, client):
    await load(_dataset())

    response = await client.get(
        "/reports/wellbeing",
        params={"format": "svg", "disclosure": "none"},
        headers=UNSUPPRESSED,
    )

    root = ElementTree.fromstring(response.text)  # noqa: S314 (our own SVG)
    bars = [r for r in root.iter(f"{SVG}rect") if "bar" in (r.get("class") or "")]
    assert len(bars) == 3  # wemwbs +3, ons4-anxiety -3, ons4-happiness 0
    [zero] = [line for line in root.iter(f"{SVG}line") if line.get("class") == "zero"]
    anxiety = next(b for b in bars if b.get("data-value") == "-3.0")
    assert anxiety.get("class") == "bar negative"
    assert float(anxiety.get("width")) > 0
    assert float(anxiety.get("x")) + float(anxiety.get("width")) == float(zero.get("x1"))
