"""The linking rules as code, against their definition: on random people, the fast rule finds
exactly the links that comparing every pair of referrals finds."""

import random
from datetime import UTC, datetime, timedelta

import pytest

from referral_api.linkage.repository import PersonReferral
from referral_api.linkage.service import compute_links

WINDOW = timedelta(days=90)
ROLES = ("social-prescribing-link-worker", "care-coordinator", "health-and-wellbeing-coach")


def by_definition(referrals, ended, window):
    """Every pair, as docs/lifecycle.md states the rules."""
    links = set()
    for index, earlier in enumerate(referrals):
        end = ended.get(earlier.id)
        for later in referrals[index + 1 :]:
            if earlier.received_by_role != later.received_by_role:
                if later.authored_at - earlier.authored_at <= window and (
                    end is None or end > later.authored_at
                ):
                    links |= {
                        (earlier.id, later.id, "concurrent-other-role"),
                        (later.id, earlier.id, "concurrent-other-role"),
                    }
            elif end is not None and end <= later.authored_at <= end + window:
                links |= {
                    (later.id, earlier.id, "re-referral-of"),
                    (earlier.id, later.id, "re-referred-as"),
                }
    return links


def random_person(rng: random.Random, count: int):
    start = datetime(2026, 1, 1, tzinfo=UTC)
    referrals = sorted(
        (
            PersonReferral(
                f"r{n:03d}",
                rng.choice(ROLES),
                # Whole days, so equal dates (ties broken by id) are common.
                start + timedelta(days=rng.randrange(0, 400), hours=rng.choice((0, 0, 9))),
            )
            for n in range(count)
        ),
        key=lambda r: (r.authored_at, r.id),
    )
    ended = {
        r.id: r.authored_at + timedelta(days=rng.randrange(-1, 150))
        for r in referrals
        if rng.random() < 0.6
    }
    return referrals, ended


@pytest.mark.parametrize("seed", range(40))
def test_the_rule_finds_exactly_the_links_of_the_definition(seed):
    rng = random.Random(seed)
    referrals, ended = random_person(rng, rng.randrange(0, 40))

    assert compute_links(referrals, ended, WINDOW) == by_definition(referrals, ended, WINDOW)


def test_a_person_with_thousands_of_referrals_to_one_role_has_no_links_to_walk():
    day = datetime(2026, 3, 1, tzinfo=UTC)
    referrals = [PersonReferral(f"r{n:05d}", ROLES[0], day) for n in range(5000)]

    assert compute_links(referrals, {}, WINDOW) == set()
