"""Disclosure control of the screening reports: the cell key method every Signpost report
publishes its counts by (`signpost_schemas.disclosure`, docs/reports.md).

Each completed response and each invitation has a record key (a keyed hash of its id under
`SCREENING_DISCLOSURE_KEY`); a count's cell key is the sum of its records' keys modulo 256,
and picks the count's adjustment from the perturbation table. Then 0 stays 0, a true count of 1
to 7 is suppressed, and other counts are rounded to the nearest 5 and shown from 15 (smaller
values are suppressed too: no value shown may stand for a count of 7 or less). A total is
computed from the true figures (its key sum the sum of its parts') and published the same way,
never summed from published cells; percentages come from the published counts.
"""

from signpost_schemas.disclosure import PerturbationTable, cell_key, cell_key_rule

Keyed = tuple[int, int]  # (count, key sum of the records counted)


def rule(table: PerturbationTable) -> str:
    """The rule as stated in every controlled screening report's notes."""
    return (
        cell_key_rule(table) + "; percentages are computed from the published "
        "counts and withheld when either count is suppressed."
    )


def add(first: Keyed, second: Keyed) -> Keyed:
    """Two disjoint counts together: keys add like counts, modulo 256."""
    return first[0] + second[0], cell_key(first[1], second[1])
