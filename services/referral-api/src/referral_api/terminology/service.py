"""Grouping SNOMED CT codes the shipped code lists do not hold, through a loaded release.

A coded element's group comes, in order, from (1) the shipped code list's `group` column,
(2) the loaded SNOMED CT release: the group of the concept's nearest mapped ancestor
(`grouping.py`), precomputed per code list when the release is loaded, (3) otherwise
`unmapped`. On the create path this costs nothing when every code is listed, and one indexed
query when some are not. Loading a release regroups the rows already stored; the report
triggers queue the referrals whose rows changed, so their facts are derived again.
"""

import dataclasses
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from referral_api.terminology import rf2
from referral_api.terminology.grouping import place_descendants
from referral_api.terminology.repository import TerminologyRepository
from signpost_schemas import codes, systems
from signpost_schemas.codes import CodeList
from signpost_schemas.fhir.binding import CodedValue
from signpost_schemas.fhir.gaps import Gap, GapKind

# The code lists whose SNOMED CT concepts group their descendants.
REASONS = "referral-reasons"
SOURCES = "source-of-referral"
SUPPORT = "support-offered"
HIERARCHY_LISTS: dict[str, Callable[[], CodeList]] = {
    REASONS: codes.referral_reasons,
    SOURCES: codes.sources_of_referral,
    SUPPORT: codes.support_offered,
}
BATCH = 5_000


async def place(
    session: AsyncSession, values: Sequence[tuple[str, CodedValue]]
) -> list[CodedValue]:
    """`values` (code list name, value) with the group the loaded release gives each unlisted
    SNOMED CT code; the others unchanged. At most one query."""
    wanted = {value.code for _, value in values if value.unlisted_snomed and value.code}
    if not wanted:
        return [value for _, value in values]
    found = await TerminologyRepository(session).groups_of(wanted)
    result = []
    for code_list, value in values:
        group = found.get((code_list, value.code or "")) if value.unlisted_snomed else None
        result.append(dataclasses.replace(value, group=group) if group else value)
    return result


# The code list each element's codes are grouped by (a gap names its element).
_LIST_OF_ELEMENT = (
    ("ServiceRequest.reasonCode", REASONS),
    ("ServiceRequest.extension", SOURCES),
    ("Task.output", SUPPORT),
)
_SNOMED_TOKEN = f"{systems.SNOMED}|"


async def without_gaps_of_placed_codes(session: AsyncSession, gaps: list[Gap]) -> list[Gap]:
    """`gaps` less the unmapped-code gaps of SNOMED CT codes the loaded release places in a
    group (one query, only when there are such gaps)."""

    def key(gap: Gap) -> tuple[str, str] | None:
        if gap.kind is not GapKind.UNMAPPED_CODE or not gap.code:
            return None
        if not gap.code.startswith(_SNOMED_TOKEN):
            return None
        code_list = next(
            (name for prefix, name in _LIST_OF_ELEMENT if gap.element.startswith(prefix)), None
        )
        return (code_list, gap.code.removeprefix(_SNOMED_TOKEN)) if code_list else None

    wanted = {k for gap in gaps if (k := key(gap)) is not None}
    if not wanted:
        return gaps
    placed = await TerminologyRepository(session).groups_of({code for _, code in wanted})
    return [gap for gap in gaps if key(gap) not in placed]


@dataclass(frozen=True, slots=True)
class LoadSummary:
    concepts: int
    is_a: int
    placed: dict[str, int]  # code list -> concepts the release places
    regrouped_reasons: int
    regrouped_sources: int


async def load_release(session: AsyncSession, directory: Path) -> LoadSummary:
    """Replace the loaded release with the RF2 Snapshot in `directory`, compute the groups
    it implies and regroup the stored reasons and sources (the caller commits)."""
    repository = TerminologyRepository(session)
    concepts = set(rf2.active_concepts(directory))
    names = rf2.names(directory)
    children: dict[int, list[int]] = defaultdict(list)
    for child, parent in rf2.is_a(directory):
        if child in concepts and parent in concepts:
            children[parent].append(child)
    await repository.clear()
    for batch in _batches(
        {"concept_id": str(c), "term": (names.get(c) or "")[:255] or None} for c in concepts
    ):
        await repository.add_concepts(batch)
    links = 0
    for batch in _batches(
        {"child_id": str(child), "parent_id": str(parent)}
        for parent, below in children.items()
        for child in below
    ):
        await repository.add_is_a(batch)
        links += len(batch)
    placed: dict[str, int] = {}
    for name, load in HIERARCHY_LISTS.items():
        mapped = [(int(c.code), c.group) for c in load().in_system(systems.SNOMED) if c.group]
        placements = place_descendants(children, mapped)
        placed[name] = len(placements)
        for batch in _batches(
            {
                "concept_id": str(concept),
                "code_list": name,
                "concept_group": where.group,
                "via_concept_id": str(where.via),
                "distance": where.distance,
            }
            for concept, where in sorted(placements.items())
        ):
            await repository.add_groups(batch)
    reasons = await repository.regroup_reasons(REASONS, _shipped(REASONS))
    sources = await repository.regroup_sources(SOURCES, _shipped(SOURCES))
    await repository.forget_placed_gaps(REASONS, "ServiceRequest.reasonCode")
    await repository.forget_placed_gaps(SOURCES, "ServiceRequest.extension.valueCodeableConcept")
    await repository.record_load(directory.name, len(concepts), datetime.now(UTC))
    return LoadSummary(len(concepts), links, placed, reasons, sources)


def _shipped(code_list: str) -> list[str]:
    return [c.code for c in HIERARCHY_LISTS[code_list]().in_system(systems.SNOMED)]


def _batches(rows: Iterable[dict[str, Any]]) -> Iterable[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch
