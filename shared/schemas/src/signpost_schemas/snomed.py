"""SNOMED CT identifiers: is a code a well-formed concept id?

A SNOMED CT identifier (SCTID) is 6 to 18 digits with no leading zero. Its last digit is a
Verhoeff check digit over the others; the two digits before it are the partition identifier,
which says what the id names: `00` a concept (short format, an International Release id) or
`10` a concept (long format, with a namespace: UK extension ids such as 108161000000109).
Other partitions name descriptions (`01`, `11`) or relationships (`02`, `12`), which are never
codes. See the SNOMED CT Technical Implementation Guide, "SCTID data type".

Well-formed is not the same as real: a well-formed id may not be in any release. Signpost
accepts any well-formed concept id and groups it when it can (docs/referral-api.md).
"""

import functools
import re

CONCEPT_PARTITIONS = frozenset({"00", "10"})
_SHAPE = re.compile(r"[1-9][0-9]{5,17}")

# Verhoeff's dihedral group D5 multiplication and position permutation tables.
_MULTIPLY = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
    (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
    (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
    (4, 0, 1, 2, 3, 9, 5, 6, 7, 8),
    (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2),
    (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
    (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
    (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)
_PERMUTE = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 5, 7, 6, 2, 8, 3, 0, 9, 4),
    (5, 8, 0, 3, 7, 9, 6, 1, 4, 2),
    (8, 9, 1, 6, 0, 4, 3, 5, 2, 7),
    (9, 4, 5, 3, 1, 2, 6, 8, 7, 0),
    (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
    (2, 7, 9, 3, 8, 0, 6, 4, 1, 5),
    (7, 0, 4, 6, 9, 1, 3, 2, 5, 8),
)


def verhoeff_valid(digits: str) -> bool:
    """True when the last digit of `digits` is the Verhoeff check digit of the others."""
    check = 0
    for position, digit in enumerate(reversed(digits)):
        check = _MULTIPLY[check][_PERMUTE[position % 8][int(digit)]]
    return check == 0


def concept_id_problem(code: str) -> str | None:
    """Why `code` is not a well-formed SNOMED CT concept id, or None when it is one."""
    if not _SHAPE.fullmatch(code):
        return "a SNOMED CT concept id is 6 to 18 digits without a leading zero"
    return _shaped_id_problem(code)


@functools.lru_cache(maxsize=8192)
def _shaped_id_problem(code: str) -> str | None:
    """`concept_id_problem` of an id of the right shape (at most 18 digits, so the cache stays
    small), kept: referrals carry the same few hundred codes again and again, and every coding
    is checked when it is read."""
    partition = code[-3:-1]
    if partition not in CONCEPT_PARTITIONS:
        return (
            f"partition identifier {partition} is not a concept's (00 or 10): "
            "the id names a description, a relationship or nothing"
        )
    if not verhoeff_valid(code):
        return "the check digit is wrong (Verhoeff)"
    return None


def is_concept_id(code: str) -> bool:
    """True when `code` is a well-formed SNOMED CT concept id."""
    return concept_id_problem(code) is None
