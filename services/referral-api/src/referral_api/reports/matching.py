"""Which support groups address which reason groups (`data/reason-support-map.csv`).

The map is the documented basis of the reason-vs-support match rate (docs/reports.md): a
referral's need in reason group G is met-in-kind when any support offered to it is in one of
the support groups the map gives for G. `not-recorded` has no support group: a referral
without a recorded need cannot be matched and is left out of the match rate. Nor can needs
in `unmapped` (a SNOMED CT code no group covers) or `uncoded` (text only): a referral whose
needs are all of these is left out of the match rate too.
"""

import csv
import io
from functools import cache
from importlib import resources

from signpost_schemas import codes
from signpost_schemas.fhir.binding import UNCODED_GROUP, UNMAPPED_GROUP

UNMATCHABLE = frozenset({"not-recorded", UNMAPPED_GROUP, UNCODED_GROUP})


@cache
def support_groups_for() -> dict[str, tuple[str, ...]]:
    """Reason group -> the support groups that address it, in file order."""
    text = (
        resources.files("referral_api.reports")
        .joinpath("data", "reason-support-map.csv")
        .read_text(encoding="utf-8")
    )
    mapping: dict[str, list[str]] = {}
    for row in csv.DictReader(io.StringIO(text, newline="")):
        mapping.setdefault(row["reason_group"], []).append(row["support_group"])
    _check(mapping)
    return {group: tuple(targets) for group, targets in mapping.items()}


def _check(mapping: dict[str, list[str]]) -> None:
    reason_groups = {c.group for c in codes.referral_reasons()} - UNMATCHABLE
    support_groups = {c.group for c in codes.support_offered()}
    if missing := reason_groups - mapping.keys():
        raise ValueError(f"reason-support map has no row for {sorted(missing)}")
    if unknown := set(mapping) - reason_groups:
        raise ValueError(f"reason-support map names unknown reason groups {sorted(unknown)}")
    for targets in mapping.values():
        if unknown := set(targets) - support_groups:
            raise ValueError(f"reason-support map names unknown support groups {sorted(unknown)}")
