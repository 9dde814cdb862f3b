"""The nearest-mapped-ancestor rule, on a hand-made hierarchy."""

from referral_api.terminology.grouping import Placement, place_descendants

# 1 (finance) -> 11 -> 111; 2 (mood) ; 12 is-a 1 and 2 ; 112 is-a 11 and 2 ; 3 (other, mapped)
# is-a 1, and 31 is-a 3.
CHILDREN = {1: [11, 12, 3], 11: [111, 112], 2: [12, 112], 3: [31]}
MAPPED = [(1, "finance"), (2, "mood"), (3, "other")]


def test_descendants_take_the_group_of_their_nearest_mapped_ancestor():
    placed = place_descendants(CHILDREN, MAPPED)

    assert placed[11] == Placement("finance", 1, 1)
    assert placed[111] == Placement("finance", 1, 2)
    assert placed[112] == Placement("mood", 2, 1)  # nearer to 2 (1 step) than to 1 (2 steps)


def test_equally_near_ancestors_give_the_group_listed_first():
    assert place_descendants(CHILDREN, MAPPED)[12] == Placement("finance", 1, 1)
    assert place_descendants(CHILDREN, list(reversed(MAPPED)))[12] == Placement("mood", 2, 1)


def test_a_mapped_concept_keeps_its_own_group_and_groups_below_it():
    placed = place_descendants(CHILDREN, MAPPED)

    assert 3 not in placed and 1 not in placed
    assert placed[31] == Placement("other", 3, 1)
