"""All SQL about the loaded SNOMED CT release and the groups stored rows take from it."""

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, delete, func, insert, literal, select, update
from sqlalchemy.sql.elements import ColumnElement

from referral_api.geography.models import LookupLoad
from referral_api.quality.models import ReferralGap
from referral_api.referrals.models import Referral, ReferralReason
from referral_api.terminology.models import SnomedConcept, SnomedConceptGroup, SnomedIsA
from signpost_platform.db import Repository, execute_core, table_of
from signpost_schemas import systems
from signpost_schemas.fhir.binding import UNMAPPED_GROUP
from signpost_schemas.fhir.gaps import GapKind

G = table_of(SnomedConceptGroup)
RR = table_of(ReferralReason)
R = table_of(Referral)

# Built once: it runs on the create path whenever a referral carries an unlisted SNOMED code.
_GROUPS_OF = select(G.c.code_list, G.c.concept_id, G.c.concept_group).where(
    G.c.concept_id.in_(bindparam("ids", expanding=True))
)


class TerminologyRepository(Repository):
    async def groups_of(self, concept_ids: Collection[str]) -> dict[tuple[str, str], str]:
        """(code list, concept id) -> group, for those of `concept_ids` the release places."""
        if not concept_ids:
            return {}
        rows = await execute_core(self.session, _GROUPS_OF, {"ids": sorted(concept_ids)})
        return {(code_list, concept): group for code_list, concept, group in rows}

    async def clear(self) -> None:
        for model in (SnomedConceptGroup, SnomedIsA, SnomedConcept):
            await self.session.execute(delete(model))

    async def add_concepts(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            await self.session.execute(insert(SnomedConcept), rows)

    async def add_is_a(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            await self.session.execute(insert(SnomedIsA), rows)

    async def add_groups(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            await self.session.execute(insert(SnomedConceptGroup), rows)

    async def regroup_reasons(self, code_list: str, shipped: Collection[str]) -> int:
        """Give every stored reason with an unlisted SNOMED code the group the release gives
        it (else `unmapped`); returns how many rows changed (the report triggers queue them)."""
        return await self._regroup(
            RR, RR.c.reason_system, RR.c.reason_code, RR.c.reason_group, code_list, shipped
        )

    async def regroup_sources(self, code_list: str, shipped: Collection[str]) -> int:
        """The same for the source of referral of every stored referral."""
        return await self._regroup(
            R,
            R.c.source_of_referral_system,
            R.c.source_of_referral_code,
            R.c.source_of_referral_group,
            code_list,
            shipped,
        )

    async def _regroup(
        self,
        table: Table,
        system: ColumnElement[str],
        code: ColumnElement[str],
        group_column: ColumnElement[str],
        code_list: str,
        shipped: Collection[str],
    ) -> int:
        """Set `group_column` of the rows of `table` whose SNOMED `code` is not in `shipped` to
        the group the release gives it in `code_list`, where that changes it."""
        group = _placed(code_list, code)
        statement = (
            update(table)
            .where(
                system == systems.SNOMED,
                code.not_in(list(shipped)),
                group_column.is_distinct_from(group),
            )
            .values({group_column: group})
        )
        return int((await self.session.execute(statement)).rowcount)  # type: ignore[attr-defined]

    async def forget_placed_gaps(self, code_list: str, element: str) -> None:
        """Unmapped-code gaps of `element` whose code the release now places are gaps no more."""
        placed = select(literal(f"{systems.SNOMED}|") + G.c.concept_id).where(
            G.c.code_list == code_list
        )
        await self.session.execute(
            delete(ReferralGap).where(
                ReferralGap.kind == GapKind.UNMAPPED_CODE.value,
                ReferralGap.element == element,
                ReferralGap.code.in_(placed),
            )
        )

    async def counts(self) -> tuple[int, int]:
        """How many concepts and is-a links are loaded."""
        concepts = await self.session.scalar(select(func.count()).select_from(SnomedConcept))
        links = await self.session.scalar(select(func.count()).select_from(SnomedIsA))
        return int(concepts or 0), int(links or 0)

    async def record_load(self, source: str, row_count: int, at: datetime) -> None:
        await self.session.execute(
            insert(LookupLoad).values(
                lookup="snomed-ct",
                source=source[:255],
                is_sample=False,
                row_count=row_count,
                loaded_at=at,
            )
        )


def _placed(code_list: str, code: ColumnElement[str]) -> ColumnElement[str]:
    """The group the loaded release gives `code` in `code_list`, else `unmapped`."""
    found = (
        select(G.c.concept_group)
        .where(G.c.code_list == code_list, G.c.concept_id == code)
        .scalar_subquery()
    )
    return func.coalesce(found, UNMAPPED_GROUP)
