"""Which measures a grouped report may total by summing its groups (in parallel on PostgreSQL)
and which it must count again over the whole scope (GROUPING SETS): a distinct count of people
is not the sum of its groups' distinct counts."""

import pytest
from sqlalchemy import func

from referral_api.reports.repository import F, _additive, _people, counted, counted_distinct


@pytest.mark.parametrize(
    "measure",
    [
        *counted("referrals", F),
        *counted("attended", F, F.c.attended),
        func.coalesce(func.sum(F.c.person_tag).filter(F.c.shared_person == 0), 0).label("t"),
        func.count().filter(F.c.dna > 0).label("with_dna"),
    ],
)
def test_counts_and_sums_are_totalled_from_their_groups(measure):
    assert _additive(measure)


@pytest.mark.parametrize(
    "measure",
    [
        *counted_distinct("referrals", F),
        *_people(F),
        func.count(func.distinct(F.c.person_key)).filter(F.c.parallel == 1).label("p"),
        func.avg(F.c.contacts).label("mean"),
        func.max(F.c.contacts).label("most"),
        (func.count() - func.coalesce(func.sum(F.c.dna), 0)).label("difference"),
    ],
)
def test_distinct_counts_and_other_aggregates_are_counted_again(measure):
    assert not _additive(measure)
