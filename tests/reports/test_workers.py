"""The workers report: caseload, contacts and DNAs per worker (staff identifier) and role, by
contact date, with the disclosure control every report has. Hand-computed datasets."""

import csv
import io

import pytest

from referral_api.reports import workers_repository
from tests.reports.conftest import REPORTS
from tests.support.reports import Dataset
from tests.support.rows import execute_sql

LINK_WORKER = "social-prescribing-link-worker"
NAVIGATOR = "care-navigator"
COACH = "health-and-wellbeing-coach"
LW1 = "https://emis.example/Id/staff|LW-1"
LW2 = "https://emis.example/Id/staff|LW-2"
CN1 = "https://rio.example/Id/staff|CN-1"
HC1 = "https://emis.example/Id/staff|HC-1"
MEASURES = ("caseload", "contacts", "attended", "dna", "not_seen", "appointments_due", "dna_rate")


def _team() -> Dataset:
    """LW-1 sees three referrals twice (attended, then did not attend) and one with LW-2;
    LW-2 also holds a referral (Task owner) it has not seen yet; CN-1 sees a navigator
    referral; HC-1 sees a link worker's referral as a coach. Entered-in-error contacts and a
    referral seen by nobody count for no one."""
    d = Dataset()
    for _ in range(3):
        referral = d.referral(authored="2026-01-05")
        d.contacts(referral, "attended", "dna", entered_in_error=1, workers=((LW1, None),))
    joint = d.referral(authored="2026-01-05")
    d.contacts(joint, "attended", workers=((LW1, None), (LW2, None)))
    waiting = d.referral(authored="2026-01-05")
    d.held_by(waiting, LW2)
    navigator = d.referral(authored="2026-01-05", role=NAVIGATOR)
    d.contacts(navigator, "not-seen", workers=((CN1, NAVIGATOR),))
    coached = d.referral(authored="2026-01-05")
    d.contacts(coached, "attended", workers=((HC1, COACH),))
    unseen = d.referral(authored="2026-01-05")
    d.contacts(unseen, "attended")
    return d


def _by_worker(body: dict) -> dict[tuple[str, str], tuple]:
    return {(r["role"], r["worker"]): tuple(r[m] for m in MEASURES) for r in body["rows"]}


async def test_caseload_contacts_and_dnas_per_worker_and_role(load, report):
    await load(_team())

    body = await report("workers", unsuppressed=True)

    assert body["parameters"]["group_by"] == ["role", "worker"]
    assert _by_worker(body) == {
        (LINK_WORKER, LW1): (4, 7, 4, 3, 0, 7, 42.9),
        (LINK_WORKER, LW2): (2, 1, 1, 0, 0, 1, 0.0),
        (NAVIGATOR, CN1): (1, 1, 0, 0, 1, 1, 0.0),
        (COACH, HC1): (1, 1, 1, 0, 0, 1, 0.0),
    }
    assert [r["role_label"] for r in body["rows"]][:1] == ["Social prescribing link worker"]
    # The joint contact is one contact in the total, as the joint referral is one referral.
    [total] = body["totals"]
    assert tuple(total[m] for m in MEASURES) == (7, 9, 5, 3, 1, 9, 33.3)


async def test_per_role_a_contact_with_two_workers_of_the_role_counts_once(load, report):
    await load(_team())

    body = await report("workers", unsuppressed=True, group_by="role")

    rows = {r["role"]: (r["caseload"], r["contacts"]) for r in body["rows"]}
    assert rows == {LINK_WORKER: (5, 7), NAVIGATOR: (1, 1), COACH: (1, 1)}


async def test_every_grouping_counts_each_referral_and_contact_once_over_all_time(load, report):
    """Over all time a request sums the totals of the facts' first-row flags that the refresh
    keeps; with a period it groups the activity rows. Both must give the same figures for
    every grouping, here with a contact shared by two roles and a worker who saw one referral
    in two roles."""
    d = _team()
    mixed = d.referral(authored="2026-01-05")
    d.contacts(mixed, "attended", "dna", workers=((LW1, None), (HC1, COACH)))
    d.contacts(mixed, "attended", workers=((LW1, COACH),), first_day=5)
    await load(d)

    for group_by in ("role", "worker", "role,worker"):  # and the totals: no grouping
        all_time = await report("workers", unsuppressed=True, group_by=group_by)
        counted = await report(
            "workers", unsuppressed=True, group_by=group_by, **{"from": "2000-01-01"}
        )
        assert all_time["rows"] == counted["rows"], group_by
        assert all_time["totals"] == counted["totals"], group_by

    by_role = await report("workers", unsuppressed=True, group_by="role")
    rows = {r["role"]: (r["caseload"], r["contacts"]) for r in by_role["rows"]}
    # The mixed referral's three contacts: two for link workers, three for coaches.
    assert rows == {LINK_WORKER: (6, 9), NAVIGATOR: (1, 1), COACH: (2, 4)}
    by_worker = await report("workers", unsuppressed=True, group_by="worker")
    assert {r["worker"]: r["caseload"] for r in by_worker["rows"]}[LW1] == 5
    assert by_worker["totals"][0]["contacts"] == 12


async def test_over_all_time_the_totals_kept_by_the_refresh_are_summed(load, report, referral_app):
    """A count changed in `report_activity_total` alone moves the answer over all time, for
    every grouping and the totals, and not the answer over a period (the activity rows)."""
    await load(_team())
    raised = ", ".join(
        f"{name} = {name} + 100"
        for name in ("contacts", "first_of_contact", "first_of_referral", "first_of_referral_role")
    )
    answers = {}
    for phase in ("before", "after"):
        if phase == "after":
            await execute_sql(referral_app, f"UPDATE report_activity_total SET {raised}")  # noqa: S608
        for group_by in ("", "role"):
            for period in ({}, {"from": "2000-01-01"}):
                grouped = {"group_by": group_by} if group_by else {}  # role and worker
                body = await report("workers", unsuppressed=True, **grouped, **period)
                counted = [(r["caseload"], r["contacts"]) for r in (*body["rows"], *body["totals"])]
                answers[phase, group_by, bool(period)] = counted

    # By role and worker, every row's contacts; by role, every row's referrals; and the totals.
    for group_by in ("", "role"):
        before, after = answers["before", group_by, False], answers["after", group_by, False]
        assert all(a[0] > b[0] or a[1] > b[1] for a, b in zip(after, before, strict=True))
        assert answers["after", group_by, True] == answers["before", group_by, True] == before


def _mixed_team() -> Dataset:
    """The team, and a referral whose contacts have workers of two roles: LW-1 and HC-1 as a
    coach on the first two, LW-1 as a coach on the third, and LW-1 in both roles on the
    fourth; LW-2 holds it and it was closed on its sixth day."""
    d = _team()
    mixed = d.referral(authored="2026-01-05")
    d.contacts(mixed, "attended", "dna", workers=((LW1, None), (HC1, COACH)))
    d.contacts(mixed, "attended", workers=((LW1, COACH),), first_day=5)
    d.contacts(mixed, "not-seen", workers=((LW1, None), (LW1, COACH)), first_day=9)
    d.held_by(mixed, LW2)
    return d


@pytest.mark.parametrize("period", [{}, {"from": "2026-01-07"}, {"to": "2026-01-06"}])
@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"role": COACH},
        {"worker": LW1},
        {"role": LINK_WORKER, "worker": LW1},
        {"role": f"{LINK_WORKER},{COACH}"},  # no flag applies but by role
    ],
)
async def test_the_first_row_flags_count_what_grouping_the_rows_counts(
    load, report, monkeypatch, period, filters
):
    """Filtered to one value of each dimension, the first-row flags of the grouping with the
    filtered dimensions added count what grouping the rows per referral and contact counts
    (`workers_repository._flag_grouping`), over all time and over a period, for every
    grouping and the totals, published and true."""
    await load(_mixed_team())
    answers = {}
    for flags in (True, False):
        if not flags:
            monkeypatch.setattr(workers_repository, "_flag_grouping", lambda query, grouping: None)
        for group_by in ("", "role", "worker", "role,worker"):
            grouped = {"group_by": group_by} if group_by else {}
            for unsuppressed in (True, False):
                body = await report("workers", unsuppressed, **grouped, **filters, **period)
                answers[flags, group_by, unsuppressed] = body
    for key, body in answers.items():
        if key[0]:
            assert body == answers[(False, *key[1:])], key
    # The filters keep rows and contacts: by worker over all time, LW-1 as a coach saw the
    # mixed referral on its last two contacts (one of them in both roles, a contact each).
    if filters == {"role": COACH} and not period:
        by_worker = answers[True, "worker", True]
        rows = {r["worker"]: (r["caseload"], r["contacts"]) for r in by_worker["rows"]}
        assert rows == {LW1: (1, 2), HC1: (2, 3)}
    # In either role, LW-1's contact in both roles is one contact.
    if filters == {"role": f"{LINK_WORKER},{COACH}"} and not period:
        by_worker = answers[True, "worker", True]
        rows = {r["worker"]: (r["caseload"], r["contacts"]) for r in by_worker["rows"]}
        assert rows[LW1] == (5, 11)


async def test_the_period_selects_contacts_by_date_and_referrals_held_while_open(load, report):
    await load(_team())

    first_day = await report(
        "workers", unsuppressed=True, **{"from": "2026-01-06", "to": "2026-01-06"}
    )
    before = await report("workers", unsuppressed=True, to="2026-01-04")

    # Only the first contacts (the day after the referral) fall on 6 January; LW-2 still holds
    # the referral it has not seen.
    assert _by_worker(first_day)[(LINK_WORKER, LW1)][:4] == (4, 4, 4, 0)
    assert _by_worker(first_day)[(LINK_WORKER, LW2)][:2] == (2, 1)
    assert before["rows"] == []


async def test_workers_and_roles_can_be_filtered(load, report, client):
    await load(_team())

    body = await report("workers", unsuppressed=True, worker=f"{LW2},{CN1}")
    coaches = await report("workers", unsuppressed=True, role=COACH, group_by="worker")
    refused = await client.get("/reports/workers", params={"worker": "LW-1"}, headers=REPORTS)

    assert set(_by_worker(body)) == {(LINK_WORKER, LW2), (NAVIGATOR, CN1)}
    assert [(r["worker"], r["contacts"]) for r in coaches["rows"]] == [(HC1, 1)]
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["parameter"] == "worker"
    assert "system|value" in refused.json()["detail"]


async def test_small_counts_are_suppressed_in_json_and_starred_in_csv(load, report, client):
    d = _team()
    for _ in range(12):
        referral = d.referral(authored="2026-01-05")
        d.contacts(referral, "attended", workers=((LW1, None),))
    await load(d)

    body = await report("workers")
    as_csv = await client.get("/reports/workers", params={"format": "csv"}, headers=REPORTS)

    rows = {r["worker"]: r for r in body["rows"]}
    assert body["disclosure"]["controlled"] is True
    assert rows[LW1]["contacts"] is not None and rows[LW1]["contacts"] % 5 == 0
    assert rows[CN1]["contacts"] is None and "contacts" in rows[CN1]["suppressed"]
    shown = {r["worker"]: r for r in csv.DictReader(io.StringIO(as_csv.text))}
    assert shown[CN1]["contacts"] == "*"
    assert shown[LW1]["contacts"] == str(rows[LW1]["contacts"])
