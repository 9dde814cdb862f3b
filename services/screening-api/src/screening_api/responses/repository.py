"""All SQL about questionnaire responses and their answers."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select

from screening_api.access import EVERY_ORGANISATION, Reach
from screening_api.responses.models import ResponseAnswerRecord, ResponseRecord
from signpost_platform.db import Repository, replace_version, table_of


@dataclass(frozen=True, slots=True)
class StoredResponse:
    id: str
    version: int
    status: str
    last_updated_at: datetime
    screen_positive: bool | None
    wants_help: bool | None
    resource: str


@dataclass(frozen=True, slots=True)
class ResponseColumns:
    """The searchable and reported columns of a response."""

    status: str
    questionnaire_url: str
    questionnaire_version: str
    nhs_number: str
    clinic_ods: str
    pathway: str | None
    identifier_system: str | None
    identifier_value: str | None
    authored_at: datetime | None
    completed_at: datetime | None
    screen_positive: bool | None
    wants_help: bool | None


@dataclass(frozen=True, slots=True)
class AnswerRow:
    link_id: str
    position: int
    answer_system: str | None
    answer_code: str | None
    is_flag: bool
    is_declined: bool
    domain: str | None


_STORED = (
    ResponseRecord.id,
    ResponseRecord.version,
    ResponseRecord.status,
    ResponseRecord.last_updated_at,
    ResponseRecord.screen_positive,
    ResponseRecord.wants_help,
    ResponseRecord.resource,
)


class ResponseRepository(Repository):
    async def get(
        self, response_id: str, reach: Reach = EVERY_ORGANISATION
    ) -> StoredResponse | None:
        """The response, if it exists and is within the caller's `reach`."""
        statement = select(*_STORED).where(ResponseRecord.id == response_id, *reach.conditions())
        row = (await self.session.execute(statement)).first()
        return StoredResponse(*row) if row else None

    async def id_by_identifier(self, system: str, value: str) -> str | None:
        statement = select(ResponseRecord.id).where(
            ResponseRecord.identifier_system == system, ResponseRecord.identifier_value == value
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def insert(self, stored: StoredResponse, columns: ResponseColumns) -> None:
        """Insert a response; raises IntegrityError if its identifier is already used."""
        await self.session.execute(
            insert(table_of(ResponseRecord)).values(
                id=stored.id,
                version=stored.version,
                created_at=stored.last_updated_at,
                last_updated_at=stored.last_updated_at,
                resource=stored.resource,
                **vars_of(columns),
            )
        )

    async def update_draft(
        self, stored: StoredResponse, expected_version: int, columns: ResponseColumns
    ) -> bool:
        """Replace a draft still at `expected_version`; False if it moved on or was completed."""
        result = await self.session.execute(
            replace_version(
                ResponseRecord, stored, expected_version, ResponseRecord.status == "in-progress"
            ).values(**vars_of(columns))
        )
        return result.rowcount == 1  # type: ignore[attr-defined,no-any-return]

    async def insert_answers(self, response_id: str, answers: Sequence[AnswerRow]) -> None:
        if not answers:
            return
        await self.session.execute(
            insert(table_of(ResponseAnswerRecord)),
            [{"response_id": response_id, **vars_of(answer)} for answer in answers],
        )

    async def flagged_domains(self, response_id: str) -> list[str]:
        statement = (
            select(ResponseAnswerRecord.domain)
            .where(ResponseAnswerRecord.response_id == response_id, ResponseAnswerRecord.is_flag)
            .order_by(ResponseAnswerRecord.link_id)
        )
        return [domain for domain in (await self.session.execute(statement)).scalars() if domain]


def vars_of(row: object) -> dict[str, object]:
    """The fields of a slotted dataclass row as a dict of column values."""
    return {name: getattr(row, name) for name in row.__slots__}  # type: ignore[attr-defined]
