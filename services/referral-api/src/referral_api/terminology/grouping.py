"""Which group a SNOMED CT concept takes from the concepts a shipped code list maps.

A concept that a code list does not hold takes the group of its **nearest mapped ancestor**:
the mapped concept it reaches in the fewest |is a| steps. When two mapped ancestors are equally
near and give different groups, the one listed first in the code list wins (the lists put the
preferred, better-verified concept first), so a load always gives the same answer. A concept
the list holds keeps the list's own group; descendants are found below it, not through it.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Placement:
    group: str
    via: int  # the mapped ancestor the group comes from
    distance: int  # is-a steps from the concept up to `via`


def place_descendants(
    children: Mapping[int, Sequence[int]], mapped: Sequence[tuple[int, str]]
) -> dict[int, Placement]:
    """Every descendant of the `mapped` concepts (concept, group; in list order) that is not
    itself mapped, with the group of its nearest mapped ancestor."""
    mapped_ids = {concept for concept, _ in mapped}
    best: dict[int, tuple[int, int, Placement]] = {}  # concept -> (distance, rank, placement)
    for rank, (root, group) in enumerate(mapped):
        seen = {root}
        frontier = [root]
        distance = 0
        while frontier:
            distance += 1
            below: list[int] = []
            for concept in frontier:
                for child in children.get(concept, ()):
                    if child in seen or child in mapped_ids:
                        continue
                    seen.add(child)
                    below.append(child)
                    current = best.get(child)
                    if current is None or (distance, rank) < current[:2]:
                        best[child] = (distance, rank, Placement(group, root, distance))
            frontier = below
    return {concept: found[2] for concept, found in best.items()}
