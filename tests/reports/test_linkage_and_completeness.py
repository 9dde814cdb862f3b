"""Re-referrals and parallel referrals, and data completeness per source system and role."""

from tests.support.reports import Dataset, Person


async def test_re_referral_and_parallel_rates(load, report):
    d = Dataset()
    first = d.referral(person="ann", details=Person(), status="closed", ended_days=20)
    again = d.referral(person="ann", authored="2026-02-15", details=Person())
    d.link(first, again, "re-referral")
    parallel = d.referral(
        person="ann", authored="2026-02-16", details=Person(), role="care-navigator"
    )
    d.link(again, parallel, "parallel")
    d.referral(person="bob", details=Person())
    await load(d)
    body = await report("re-referrals", unsuppressed=True, group_by="role")
    rows = {r["role"]: (r["referrals"], r["re_referrals"], r["parallel"]) for r in body["rows"]}
    # The concurrent pair is one parallel referral, counted at the later one (care navigator).
    assert rows == {
        "social-prescribing-link-worker": (3, 1, 0),
        "care-navigator": (1, 0, 1),
    }
    total = body["totals"][0]
    assert (
        total["referrals"],
        total["re_referrals"],
        total["re_referral_rate"],
        total["parallel"],
        total["parallel_rate"],
        total["people_in_parallel"],
    ) == (4, 1, 25.0, 1, 25.0, 1)


async def test_a_parallel_pair_made_on_one_day_counts_once(load, report):
    d = Dataset()
    for person in ("ann", "bob"):
        one = d.referral(person=person, authored="2026-03-02", details=Person())
        other = d.referral(
            person=person, authored="2026-03-02", details=Person(), role="care-navigator"
        )
        d.link(one, other, "parallel")
    await load(d)

    total = (await report("re-referrals", unsuppressed=True))["totals"][0]

    assert (total["referrals"], total["parallel"], total["people_in_parallel"]) == (4, 2, 2)


def _completeness() -> Dataset:
    d = Dataset()
    d.referral(source_system="emis", details=Person())
    d.referral(
        source_system="emis",
        reasons=("reason-not-recorded",),
        details=Person(ethnic_category="99", gender="not-known", lsoa=None),
    )
    d.referral(
        source_system="emis",
        details=Person(ethnic_category="Z", age_band=None),
        status="closed",
        ended_days=10,
        closure_reason="needs-met",
    )
    d.referral(source_system="emis", details=Person(pcn=None), status="closed", ended_days=10)
    d.referral(source_system="api", source=None, details=None)  # a REST referral
    d.referral(
        source_system="rio",
        role="care-navigator",
        source="unknown",
        reasons=("reason-not-recorded",),
        details=Person(practice=None, pcn=None),
    )
    return d


async def test_completeness_per_source_system_by_default(load, report):
    await load(_completeness())
    body = await report("completeness", unsuppressed=True)
    assert body["parameters"]["group_by"] == ["source-system"]
    cells = {
        (r["source_system"], r["field"]): (r["complete"], r["applicable"], r["complete_rate"])
        for r in body["rows"]
    }
    assert cells[("emis", "reason")] == (3, 4, 75.0)  # reason-not-recorded counts as missing
    assert cells[("emis", "ethnicity")] == (3, 4, 75.0)  # 99 is missing, Z (not stated) is not
    assert cells[("emis", "gender")] == (3, 4, 75.0)
    assert cells[("emis", "age_band")] == (3, 4, 75.0)
    assert cells[("emis", "lsoa")] == (3, 4, 75.0)
    assert cells[("emis", "pcn")] == (3, 4, 75.0)
    assert cells[("emis", "closure_reason")] == (1, 2, 50.0)
    assert cells[("api", "person")] == (0, 1, 0.0)
    assert cells[("api", "source")] == (0, 1, 0.0)
    assert cells[("api", "closure_reason")] == (0, 0, None)
    assert cells[("rio", "source")] == (0, 1, 0.0)  # "unknown" is not a coded source
    assert cells[("rio", "practice")] == (0, 1, 0.0)
    fields = [r["field"] for r in body["rows"] if r["source_system"] == "emis"]
    assert fields == [
        "reason",
        "source",
        "person",
        "age_band",
        "gender",
        "ethnicity",
        "lsoa",
        "practice",
        "pcn",
        "closure_reason",
    ]
    totals = {t["field"]: (t["complete"], t["applicable"]) for t in body["totals"]}
    assert totals["reason"] == (4, 6)
    assert totals["person"] == (5, 6)


async def test_completeness_per_role(load, report):
    await load(_completeness())
    body = await report("completeness", unsuppressed=True, group_by="role")
    cells = {(r["role"], r["field"]): r["complete_rate"] for r in body["rows"]}
    assert cells[("care-navigator", "reason")] == 0.0
    assert cells[("social-prescribing-link-worker", "reason")] == 80.0
