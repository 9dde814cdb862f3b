"""Reasons: every reason counted (and the report says so), reason groups once per referral, and
the reasons given together."""

from signpost_schemas import systems
from tests.referral.conftest import WRITE
from tests.support.builders import reason, service_request
from tests.support.reports import Dataset, Person

HOUSING, HOMELESS, FINANCE, ISOLATION = "105531004", "32911000", "160932005", "422650009"


def _dataset() -> Dataset:
    d = Dataset()
    d.referral(reasons=(HOUSING, FINANCE, ISOLATION), details=Person())
    d.referral(reasons=(HOUSING, HOMELESS), details=Person())
    d.referral(reasons=(FINANCE,), details=Person(), role="care-navigator")
    d.referral(reasons=("reason-not-recorded",), details=Person(), role="care-navigator")
    d.referral(reasons=(HOUSING, FINANCE), details=Person(), role="care-navigator")
    return d


async def test_every_reason_is_counted_and_the_report_says_so(load, report):
    await load(_dataset())
    body = await report("reasons", unsuppressed=True)
    counts = {
        r["reason"]: (r["referrals"], r["referrals_in_group"], r["share"]) for r in body["rows"]
    }
    assert counts == {
        HOUSING: (3, 5, 60.0),
        FINANCE: (3, 5, 60.0),
        ISOLATION: (1, 5, 20.0),
        HOMELESS: (1, 5, 20.0),
        "reason-not-recorded": (1, 5, 20.0),
    }
    first = body["rows"][0]
    assert (first["reason_label"], first["reason_group"]) in {
        ("Housing unsatisfactory", "housing"),
        ("Financial problem", "finance"),
    }
    # Rows add up to 9 reasons; the last total counts the 5 referrals once each.
    assert sum(r["referrals"] for r in body["rows"]) == 9
    everything = body["totals"][-1]
    assert (everything["reason"], everything["reason_label"], everything["referrals"]) == (
        None,
        "All referrals (each once)",
        5,
    )
    note = body["notes"][0]
    assert "a referral with three reasons counts once under each" in note
    assert "5 referrals carry 9 reasons" in note


async def test_reasons_per_role_share_of_the_role_s_referrals(load, report):
    await load(_dataset())
    body = await report("reasons", unsuppressed=True, group_by="role")
    navigator = {
        r["reason"]: (r["referrals"], r["referrals_in_group"], r["share"])
        for r in body["rows"]
        if r["role"] == "care-navigator"
    }
    assert navigator == {
        FINANCE: (2, 3, 66.7),
        HOUSING: (1, 3, 33.3),
        "reason-not-recorded": (1, 3, 33.3),
    }
    # Per-reason totals over both roles.
    assert {t["reason"]: t["referrals"] for t in body["totals"]} == {
        HOUSING: 3,
        FINANCE: 3,
        ISOLATION: 1,
        HOMELESS: 1,
        "reason-not-recorded": 1,
        None: 5,
    }


async def test_not_recorded_beside_a_text_reason_forms_no_pair_of_groups(client, report):
    """ "Reason not recorded" beside a reason given as text only is accepted (the text is no
    coded reason), and is no group of need: the referral can form no pair of groups."""
    body = service_request(
        reasons=[reason("reason-not-recorded", systems.REFERRAL_REASON), {"text": "Money worries"}],
    )
    assert (await client.post("/fhir/ServiceRequest", json=body, headers=WRITE)).status_code == 201

    pairs = await report("reason-pairs", unsuppressed=True, level="reason-group")

    assert pairs["rows"] == []
    [total] = pairs["totals"]
    assert (total["referrals"], total["referrals_in_group"]) == (0, 1)


async def test_a_reason_filter_keeps_whole_referrals_and_their_groups_count_them_once(load, report):
    await load(_dataset())
    body = await report(
        "reasons", unsuppressed=True, level="reason-group", reason=HOUSING, group_by="role"
    )
    cells = {
        (r["role"], r["reason_group"]): (r["referrals"], r["referrals_in_group"])
        for r in body["rows"]
    }
    # The three referrals with housing, their other reasons kept; two reasons in one group
    # (housing, homeless) count once.
    assert cells == {
        ("social-prescribing-link-worker", "housing"): (2, 2),
        ("social-prescribing-link-worker", "finance"): (1, 2),
        ("social-prescribing-link-worker", "isolation-loneliness"): (1, 2),
        ("care-navigator", "housing"): (1, 1),
        ("care-navigator", "finance"): (1, 1),
    }
    everything = body["totals"][-1]
    assert (everything["reason_group"], everything["referrals"]) == (None, 3)


async def test_a_reason_group_counts_each_referral_once(load, report):
    await load(_dataset())
    body = await report("reasons", unsuppressed=True, level="reason-group")
    assert {r["reason_group"]: r["referrals"] for r in body["rows"]} == {
        "housing": 3,
        "finance": 3,
        "isolation-loneliness": 1,
        "not-recorded": 1,
    }
    assert "reason groups" in body["notes"][0]


async def test_reasons_are_ranked_by_their_published_count(load, report):
    d = Dataset()
    for _ in range(22):
        d.referral(reasons=(FINANCE,), details=Person())
    for _ in range(24):
        d.referral(reasons=(HOUSING,), details=Person())
    d.referral(reasons=(ISOLATION,), details=Person())
    await load(d)
    body = await report("reasons")
    # Ranked by the published values (adjusted and rounded), never the true 24 and 22; the
    # suppressed isolation row comes last.
    shown = [(r["reason"], r["referrals"]) for r in body["rows"]]
    assert shown[-1] == (ISOLATION, None)
    values = [value for _, value in shown[:-1]]
    assert {reason for reason, _ in shown[:-1]} == {HOUSING, FINANCE}
    assert all(v is not None for v in values) and values == sorted(values, reverse=True)


async def test_reason_pairs_most_frequent_first(load, report):
    await load(_dataset())
    body = await report("reason-pairs", unsuppressed=True)
    pairs = [(r["first"], r["second"], r["referrals"]) for r in body["rows"]]
    # Each pair once, its codes in order.
    assert pairs[0] == (HOUSING, FINANCE, 2)
    assert sorted(pairs[1:]) == sorted(
        [
            (FINANCE, ISOLATION, 1),
            (HOUSING, ISOLATION, 1),
            (HOUSING, HOMELESS, 1),
        ]
    )
    assert (body["rows"][0]["first_label"], body["rows"][0]["second_label"]) == (
        "Housing unsatisfactory",
        "Financial problem",
    )
    total = body["totals"][0]
    assert (total["first_label"], total["referrals"], total["referrals_in_group"]) == (
        "Referrals with more than one reason",
        3,
        5,
    )
    limited = await report("reason-pairs", unsuppressed=True, limit="1")
    assert len(limited["rows"]) == 1


async def test_reason_group_pairs_leave_out_pairs_within_one_group(load, report):
    await load(_dataset())
    body = await report("reason-pairs", unsuppressed=True, level="reason-group")
    assert {(r["first"], r["second"]): r["referrals"] for r in body["rows"]} == {
        ("finance", "housing"): 2,
        ("finance", "isolation-loneliness"): 1,
        ("housing", "isolation-loneliness"): 1,
    }
    # Two reasons in one group (housing, homeless) make no pair of groups.
    total = body["totals"][0]
    assert (total["first_label"], total["referrals"]) == (
        "Referrals with reasons in more than one group",
        2,
    )


async def test_reason_pairs_over_part_of_a_month_count_only_its_days(load, report):
    """Over whole months, grouped and filtered by month and role alone, reason pairs are summed
    from the monthly counts the refresh keeps; any other period or query counts the pair facts
    themselves, so part of a month counts only its days."""
    d = Dataset()
    for day, role in (("01", None), ("14", None), ("15", "care-navigator"), ("30", None)):
        roles = {"role": role} if role else {}
        d.referral(authored=f"2026-03-{day}", reasons=(HOUSING, FINANCE), **roles)
    await load(d)

    def counted(body):
        rows = {(r.get("role"), r.get("month")): r["referrals"] for r in body["rows"]}
        return rows, body["totals"][0]["referrals_in_group"]

    link_worker = "social-prescribing-link-worker"
    whole = {"from": "2026-03-01", "to": "2026-03-31"}
    assert counted(await report("reason-pairs", True, **whole)) == ({(None, None): 4}, 4)
    by_role = await report("reason-pairs", True, group_by="role", **whole)
    assert counted(by_role) == ({(link_worker, None): 3, ("care-navigator", None): 1}, 4)
    for period, expected in (
        ({"from": "2026-03-15", "to": "2026-03-31"}, 2),
        ({"from": "2026-03-01", "to": "2026-03-14"}, 2),
        ({"from": "2026-03-02", "to": "2026-03-30"}, 3),
    ):
        body = await report("reason-pairs", True, **period)
        assert counted(body) == ({(None, None): expected}, expected), period
    by_month = await report("reason-pairs", True, group_by="month", role=link_worker, **whole)
    assert counted(by_month) == ({(None, "2026-03"): 3}, 3)
