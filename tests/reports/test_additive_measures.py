"""Which measures a grouped report may total by summing its groups (in parallel on PostgreSQL),
which distinct counts it may count over only the rows their filter keeps, and which it must count
again over the whole scope (GROUPING SETS): a distinct count of people is not the sum of its
groups' distinct counts."""

import pytest
from sqlalchemy import distinct, func

from referral_api.reports.repository import (
    F,
    _additive,
    _filtered_distinct,
    _people,
    counted,
    counted_distinct,
)


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
        *_people(F, "postgresql"),
        *_people(F, "sqlite"),
        func.count(func.distinct(F.c.person_key)).filter(F.c.parallel == 1).label("p"),
        func.avg(F.c.contacts).label("mean"),
        func.count(distinct(F.c.person_key)).label("written_apart"),
        func.count(F.c.person_key.distinct()).label("as_a_method"),
        func.coalesce(func.sum(F.c.dna), 1).label("not_zero_when_empty"),
        func.max(F.c.contacts).label("most"),
        (func.count() - func.coalesce(func.sum(F.c.dna), 0)).label("difference"),
    ],
)
def test_distinct_counts_and_other_aggregates_are_counted_again(measure):
    assert not _additive(measure)


def _people_in_parallel():
    return [
        func.count(func.distinct(F.c.person_key)).filter(F.c.parallel == 1).label("people"),
        func.coalesce(func.sum(func.distinct(F.c.person_tag)).filter(F.c.parallel == 1), 0).label(
            "people_key"
        ),
    ]


def test_distinct_counts_under_one_filter_are_counted_over_the_rows_it_keeps():
    found = _filtered_distinct(_people_in_parallel())

    assert found is not None
    criterion, measures = found
    assert criterion.compare(F.c.parallel == 1)
    assert [m.name for m in measures] == ["people", "people_key"]
    assert "FILTER" not in " ".join(str(m) for m in measures)


@pytest.mark.parametrize(
    "measures",
    [
        [*_people_in_parallel(), func.count(func.distinct(F.c.person_key)).label("all_people")],
        [
            *_people_in_parallel(),
            func.count(func.distinct(F.c.person_key)).filter(F.c.re_referral == 1).label("re"),
        ],
        _people(F, "postgresql"),
        _people(F, "sqlite"),
        counted_distinct("referrals", F),
    ],
    ids=["unfiltered", "two-filters", "people", "people-on-sqlite", "distinct-referrals"],
)
def test_other_distinct_counts_are_counted_with_grouping_sets(measures):
    assert _filtered_distinct(measures) is None
