"""All SQL about extracted Observations."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, false, insert, or_, select

from screening_api.access import Reach
from screening_api.observations.extraction import ExtractedObservation
from screening_api.observations.models import ObservationRecord
from screening_api.observations.search import ObservationFilter
from signpost_platform.db import Repository, table_of
from signpost_platform.fhir.search import token_condition
from signpost_platform.paging import page


@dataclass(frozen=True, slots=True)
class StoredObservation:
    id: str
    resource: str


class ObservationRepository(Repository):
    async def insert_many(
        self,
        response_id: str,
        nhs_number: str,
        effective_at: datetime,
        observations: Sequence[ExtractedObservation],
    ) -> None:
        if not observations:
            return
        await self.session.execute(
            insert(table_of(ObservationRecord)),
            [
                {
                    "id": o.id,
                    "response_id": response_id,
                    "link_id": o.link_id,
                    "nhs_number": nhs_number,
                    "code_system": o.code_system,
                    "code": o.code,
                    "domain_code": o.domain_code,
                    "is_positive": o.is_positive,
                    "effective_at": effective_at,
                    "last_updated_at": effective_at,
                    "resource": o.resource,
                }
                for o in observations
            ],
        )

    async def get(self, observation_id: str, reach: Reach) -> StoredObservation | None:
        statement = select(ObservationRecord.id, ObservationRecord.resource).where(
            ObservationRecord.id == observation_id,
            *reach.of_visible_responses(ObservationRecord.response_id),
        )
        row = (await self.session.execute(statement)).first()
        return StoredObservation(*row) if row else None

    async def search(
        self, search: ObservationFilter, reach: Reach
    ) -> tuple[int, list[StoredObservation]]:
        conditions = [
            *_conditions(search),
            *reach.of_visible_responses(ObservationRecord.response_id),
        ]
        statement = (
            select(ObservationRecord.id, ObservationRecord.resource)
            .where(*conditions)
            .order_by(
                ObservationRecord.effective_at.desc(),
                ObservationRecord.response_id,
                ObservationRecord.link_id,
            )
        )
        total, rows = await page(
            self.session,
            statement,
            ObservationRecord,
            conditions,
            count=search.count,
            offset=search.offset,
        )
        assert total is not None
        return total, [StoredObservation(*row) for row in rows]


def _conditions(search: ObservationFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    for ids in search.ids:
        conditions.append(ObservationRecord.id.in_(ids))
    for ids in search.response_ids:
        conditions.append(ObservationRecord.response_id.in_(ids))
    for numbers in search.nhs_numbers:
        conditions.append(ObservationRecord.nhs_number.in_(numbers))
    for tokens in search.codes:
        conditions.append(
            or_(
                *(
                    token_condition(ObservationRecord.code_system, ObservationRecord.code, token)
                    for token in tokens
                )
            )
        )
    for match in search.categories:
        if match.every:
            continue
        options = []
        if match.risk_questions:
            options.append(ObservationRecord.domain_code.is_not(None))
        if match.domains:
            options.append(ObservationRecord.domain_code.in_(match.domains))
        conditions.append(or_(*options) if options else false())
    if search.positive is not None:
        conditions.append(ObservationRecord.is_positive.is_(search.positive))
    return conditions
