"""Waiting times (median, 90th percentile), attendance (DNA rate), outcomes and closure reasons."""

from collections import Counter

import pytest

from referral_api.reports.distributions import merged, percentile
from tests.reports.conftest import UNSUPPRESSED
from tests.support.reports import Dataset, Person, fields_of


def test_percentiles_interpolate_between_ranks():
    waits = Counter({1: 1, 2: 1, 3: 1, 4: 1, 10: 1})
    assert percentile(waits, 0.5) == 3.0
    # Position (5 - 1) * 0.9 = 3.6: 4 + 0.6 * (10 - 4).
    assert percentile(waits, 0.9) == pytest.approx(7.6)
    assert percentile(Counter({7: 3}), 0.9) == 7.0
    assert percentile(Counter(), 0.5) is None
    assert percentile(Counter({2: 1, 5: 1}), 0.5) == 3.5
    assert merged([Counter({1: 2}), Counter({1: 1, 3: 1})]) == Counter({1: 3, 3: 1})


def _waits() -> Dataset:
    d = Dataset()
    for first, closed in ((1, 10), (2, 20), (3, 30), (4, 40), (10, None)):
        d.referral(
            details=Person(),
            status="closed" if closed else "accepted",
            first_contact_days=first,
            ended_days=closed,
            closure_reason="needs-met" if closed else None,
        )
    d.referral(details=Person(), status="accepted")  # still waiting
    d.referral(
        details=Person(),
        role="care-navigator",
        status="closed",
        first_contact_days=7,
        ended_days=14,
        closure_reason="unable-to-contact",
    )
    return d


async def test_waits_to_first_contact_and_closure(load, report):
    await load(_waits())
    body = await report("waiting-times", unsuppressed=True, group_by="role")
    link_worker, navigator = body["rows"]
    assert link_worker["role"] == "social-prescribing-link-worker"
    assert (link_worker["referrals"], link_worker["first_contact"], link_worker["closed"]) == (
        6,
        5,
        4,
    )
    assert (link_worker["first_contact_median"], link_worker["first_contact_p90"]) == (3.0, 7.6)
    # Closure: 10, 20, 30, 40 -> median 25, 90th percentile at 2.7: 30 + 0.7 * 10.
    assert (link_worker["closure_median"], link_worker["closure_p90"]) == (25.0, 37.0)
    assert (navigator["first_contact_median"], navigator["closure_median"]) == (7.0, 14.0)
    total = body["totals"][0]
    # All seven: 1, 2, 3, 4, 7, 10 to first contact (one still waiting).
    assert (total["referrals"], total["first_contact"], total["first_contact_median"]) == (
        7,
        6,
        3.5,
    )
    assert total["first_contact_p90"] == 8.5


async def test_waits_by_reason_group_count_a_referral_in_each_of_its_groups_and_once_in_all(
    load, report
):
    d = Dataset()
    housing, finance, isolation = "105531004", "160932005", "422650009"
    for first, closed, reasons in (
        (2, 20, (housing, finance)),
        (4, None, (housing,)),
        (6, 30, (finance, isolation)),
    ):
        d.referral(
            details=Person(),
            reasons=reasons,
            status="closed" if closed else "accepted",
            first_contact_days=first,
            ended_days=closed,
            closure_reason="needs-met" if closed else None,
        )
    d.referral(details=Person(), reasons=(isolation,), status="accepted")  # still waiting
    await load(d)

    body = await report("waiting-times", unsuppressed=True, group_by="reason-group")

    cells = {
        r["reason_group"]: (
            r["referrals"],
            r["first_contact"],
            r["first_contact_median"],
            r["closed"],
            r["closure_median"],
        )
        for r in body["rows"]
    }
    assert cells == {
        "housing": (2, 2, 3.0, 1, 20.0),
        "finance": (2, 2, 4.0, 2, 25.0),
        "isolation-loneliness": (2, 1, 6.0, 1, 30.0),
    }
    # Every referral once: waits of 2, 4 and 6 days, closures after 20 and 30.
    [total] = body["totals"]
    assert (
        total["referrals"],
        total["first_contact"],
        total["first_contact_median"],
        total["closed"],
        total["closure_median"],
    ) == (4, 3, 4.0, 2, 25.0)


async def test_waits_when_no_referral_matches(load, report):
    await load(_waits())
    body = await report("waiting-times", unsuppressed=True, role="care-coordinator")
    [row] = body["rows"]
    assert (row["referrals"], row["first_contact"], row["closed"]) == (0, 0, 0)
    assert (row["first_contact_median"], row["closure_median"]) == (None, None)


async def test_waits_of_small_groups_are_withheld_with_their_counts(load, report):
    await load(_waits())
    body = await report("waiting-times", group_by="role")
    navigator = body["rows"][1]
    assert navigator["first_contact"] is None
    assert navigator["first_contact_median"] is None
    assert {"first_contact", "first_contact_median", "first_contact_p90"} <= set(
        navigator["suppressed"]
    )


async def test_dna_rate_counts_attended_dna_and_not_seen_as_due(load, report):
    d = Dataset()
    a = d.referral(details=Person(), status="accepted")
    d.contacts(
        a,
        "attended",
        "attended",
        "dna",
        "not-seen",
        "cancelled-by-patient",
        "booked",
        entered_in_error=1,
    )
    b = d.referral(details=Person(), status="accepted")
    d.contacts(b, "attended", "cancelled-by-provider")
    d.referral(details=Person())
    await load(d)
    body = await report("attendance", unsuppressed=True)
    total = body["totals"][0]
    expected = {
        "referrals_with_contact": 2,
        "contacts": 8,
        "attended": 3,
        "dna": 1,
        "not_seen": 1,
        "cancelled_by_patient": 1,
        "cancelled_by_provider": 1,
        "booked": 1,
        "appointments_due": 5,
        "dna_rate": 20.0,
        "referrals_with_dna": 1,
        "referrals_with_dna_rate": 50.0,
    }
    assert fields_of(total, expected) == expected


async def test_outcomes_count_each_referral_in_its_current_status(load, report):
    d = Dataset()
    d.referral(details=Person())  # nothing back yet: received
    d.referral(details=Person(), status="accepted")
    d.referral(details=Person(), status="declined", ended_days=2, decline_reason="02")
    d.referral(details=Person(), status="cancelled", ended_days=3)
    d.referral(details=Person(), status="closed", ended_days=30, closure_reason="needs-met")
    d.referral(details=Person(), status="closed", ended_days=30, closure_reason="needs-met")
    await load(d)
    total = (await report("outcomes", unsuppressed=True))["totals"][0]
    expected = {
        "referrals": 6,
        "received": 1,
        "accepted": 1,
        "declined": 1,
        "cancelled": 1,
        "closed": 2,
        "closed_rate": 33.3,
        "declined_rate": 16.7,
    }
    assert fields_of(total, expected) == expected


async def test_closure_and_decline_reasons_with_their_share(load, report):
    d = Dataset()
    for reason in ("needs-met", "needs-met", "needs-met", "unable-to-contact"):
        d.referral(details=Person(), status="closed", ended_days=9, closure_reason=reason)
    d.referral(details=Person(), status="closed", ended_days=9)  # no reason recorded
    d.referral(details=Person(), status="declined", ended_days=1, decline_reason="01")
    await load(d)
    body = await report("closure-reasons", unsuppressed=True)
    rows = [
        (r["ended"], r["code"], r["code_label"], r["outcome"], r["referrals"], r["share"])
        for r in body["rows"]
    ]
    assert rows == [
        ("closed", "needs-met", "Needs met", "completed", 3, 60.0),
        ("closed", "unable-to-contact", "Unable to contact", "not-engaged", 1, 20.0),
        ("closed", None, "Not recorded", None, 1, 20.0),
        ("declined", "01", "Duplicate", "rejected", 1, 100.0),
    ]


async def test_outcomes_by_the_type_of_support_offered(load, report, client):
    """Outcome by service type: a referral counts under each group of support it was offered
    (its status once per group), one offered none under no group; the total counts each once."""
    d = Dataset()
    both = d.referral(details=Person(), status="closed", ended_days=30, closure_reason="needs-met")
    d.support(both, "housing-advice", "benefits-welfare-advice")
    housing = d.referral(details=Person(), status="accepted", role="care-navigator")
    d.support(housing, "housing-advice")
    d.support(housing, "housing-advice")  # twice, still one referral in housing
    d.referral(details=Person(), status="declined", ended_days=2, decline_reason="02")
    await load(d)
    body = await report("outcomes", unsuppressed=True, group_by="support-group")
    rows = {
        r["support_group"]: (r["referrals"], r["accepted"], r["declined"], r["closed"])
        for r in body["rows"]
    }
    assert rows == {"finance": (1, 0, 0, 1), "housing": (2, 1, 0, 1), None: (1, 0, 1, 0)}
    total = body["totals"][0]
    assert (total["referrals"], total["accepted"], total["declined"], total["closed"]) == (
        3,
        1,
        1,
        1,
    )
    assert any("Every group of support offered" in note for note in body["notes"])
    housing_only = await report("outcomes", unsuppressed=True, **{"support-group": "housing"})
    assert housing_only["totals"][0]["referrals"] == 2
    by_role = await report("outcomes", unsuppressed=True, group_by="support-group,role")
    assert {
        (r["support_group"], r["role"]): (r["referrals"], r["accepted"], r["declined"], r["closed"])
        for r in by_role["rows"]
    } == {
        ("finance", "social-prescribing-link-worker"): (1, 0, 0, 1),
        ("housing", "social-prescribing-link-worker"): (1, 0, 0, 1),
        ("housing", "care-navigator"): (1, 1, 0, 0),
        (None, "social-prescribing-link-worker"): (1, 0, 1, 0),
    }
    care_navigators = await report(
        "outcomes", unsuppressed=True, group_by="support-group", role="care-navigator"
    )
    assert [(r["support_group"], r["accepted"]) for r in care_navigators["rows"]] == [
        ("housing", 1)
    ]
    # Only the outcomes report offers it.
    refused = await client.get(
        "/reports/referrals", params={"group_by": "support-group"}, headers=UNSUPPRESSED
    )
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["parameter"] == "group_by"
