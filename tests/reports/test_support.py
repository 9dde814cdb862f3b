"""Support offered, and whether it matches the need: the reason-vs-support match rate."""

from referral_api.reports.matching import UNMATCHABLE, support_groups_for
from signpost_schemas import codes
from tests.support.reports import Dataset, Person

HOUSING, FINANCE, ISOLATION = "105531004", "160932005", "422650009"


def test_the_map_gives_every_need_a_support_group_and_names_only_known_groups():
    mapping = support_groups_for()
    needs = {c.group for c in codes.referral_reasons()} - UNMATCHABLE
    assert set(mapping) == needs
    known = {c.group for c in codes.support_offered()}
    assert all(targets and set(targets) <= known for targets in mapping.values())
    assert mapping["housing"] == ("housing",)
    assert "not-recorded" not in mapping


def _dataset() -> Dataset:
    """Housing is the top need while diet education is the top support."""
    d = Dataset()
    a = d.referral(reasons=(HOUSING, FINANCE), details=Person())
    d.support(a, "diet-healthy-eating", "benefits-welfare-advice")
    b = d.referral(reasons=(HOUSING,), details=Person())
    d.support(b, "diet-healthy-eating")
    c = d.referral(reasons=(HOUSING, ISOLATION), details=Person())
    d.support(c, "housing-advice", "community-group-activity", kind="referral")
    d.support(c, "housing-advice")  # offered again by a second Task
    d.referral(reasons=(FINANCE,), details=Person())  # nothing offered yet
    e = d.referral(reasons=("reason-not-recorded",), details=Person())
    d.support(e, "diet-healthy-eating")
    return d


async def test_support_offered_by_type_and_group(load, report):
    await load(_dataset())
    body = await report("support", unsuppressed=True)
    rows = {
        r["support"]: (r["referrals"], r["offers"], r["onward_referrals"]) for r in body["rows"]
    }
    assert rows == {
        "diet-healthy-eating": (3, 3, 0),
        "housing-advice": (1, 2, 1),
        "benefits-welfare-advice": (1, 1, 0),
        "community-group-activity": (1, 1, 1),
    }
    assert body["rows"][0]["support"] == "diet-healthy-eating"
    assert body["rows"][0]["support_group"] == "general-wellbeing"
    total = body["totals"][0]
    assert (total["referrals"], total["offers"], total["onward_referrals"]) == (4, 7, 2)
    groups = await report("support", unsuppressed=True, level="support-group")
    assert {r["support"]: r["referrals"] for r in groups["rows"]} == {
        "general-wellbeing": 3,
        "housing": 1,
        "finance": 1,
        "isolation-loneliness": 1,
    }
    reasons = await report("reasons", unsuppressed=True, level="reason-group")
    assert reasons["rows"][0]["reason_group"] == "housing"


async def test_match_rate_per_need_and_overall(load, report):
    await load(_dataset())
    body = await report("support-match", unsuppressed=True)
    rows = {
        r["reason_group"]: (
            r["referrals"],
            r["with_support"],
            r["matched"],
            r["match_rate"],
            r["supported_rate"],
        )
        for r in body["rows"]
    }
    assert rows == {
        # a: diet education and benefits; b: diet education; c: housing advice.
        "housing": (3, 3, 1, 33.3, 100.0),
        # a: benefits advice addresses finance; the fourth referral has no support yet.
        "finance": (2, 1, 1, 100.0, 50.0),
        "isolation-loneliness": (1, 1, 1, 100.0, 100.0),
    }
    assert body["rows"][0]["addressed_by"] == "housing"
    # Once per referral: a, b, c and the fourth have a need; a and c have one met.
    total = body["totals"][0]
    assert (total["referrals"], total["with_support"], total["matched"], total["match_rate"]) == (
        4,
        3,
        2,
        66.7,
    )
    assert any("reason-support-map.csv" in note for note in body["notes"])


async def test_match_rate_by_role(load, report):
    d = Dataset()
    a = d.referral(reasons=(HOUSING,), details=Person(), role="care-navigator")
    d.support(a, "housing-advice")
    b = d.referral(reasons=(HOUSING,), details=Person())
    d.support(b, "arts-creative")
    await load(d)
    body = await report("support-match", unsuppressed=True, group_by="role")
    assert {(r["role"], r["reason_group"]): r["match_rate"] for r in body["rows"]} == {
        ("social-prescribing-link-worker", "housing"): 0.0,
        ("care-navigator", "housing"): 100.0,
    }


async def test_the_total_counts_each_referral_with_a_need_once_whatever_its_first_reason(
    load, report
):
    """The total counts a referral on its first reason's row, which may be a reason no support
    addresses: it must still count once, grouped or filtered."""
    unmatchable = "reason-not-recorded"  # no support addresses it
    d = Dataset()
    a = d.referral(reasons=(unmatchable, HOUSING), details=Person(), role="care-navigator")
    d.support(a, "housing-advice")
    d.referral(reasons=(FINANCE,), details=Person())  # nothing offered
    c = d.referral(reasons=(unmatchable,), details=Person())  # no need the map can match
    d.support(c, "diet-healthy-eating")
    e = d.referral(reasons=(ISOLATION, HOUSING), details=Person())
    d.support(e, "diet-healthy-eating")
    await load(d)

    def total(body: dict) -> tuple[int, int, int]:
        [whole] = body["totals"]
        return whole["referrals"], whole["with_support"], whole["matched"]

    whole = await report("support-match", unsuppressed=True)
    assert {r["reason_group"] for r in whole["rows"]} == {
        "housing",
        "finance",
        "isolation-loneliness",
    }
    assert total(whole) == (3, 2, 1)
    by_role = await report("support-match", unsuppressed=True, group_by="role")
    assert total(by_role) == (3, 2, 1)
    assert {
        (r["role"], r["reason_group"]): (r["referrals"], r["with_support"], r["matched"])
        for r in by_role["rows"]
    } == {
        ("care-navigator", "housing"): (1, 1, 1),
        ("social-prescribing-link-worker", "housing"): (1, 1, 0),
        ("social-prescribing-link-worker", "finance"): (1, 0, 0),
        ("social-prescribing-link-worker", "isolation-loneliness"): (1, 1, 0),
    }
    housing = await report("support-match", unsuppressed=True, **{"reason-group": "housing"})
    assert total(housing) == (2, 2, 1)
