"""All SQL about exports: the jobs, their parts, and the rows exported."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, func, insert, or_, select

from referral_api.consent.models import PersonConsent
from referral_api.export.models import ExportJob, ExportPart
from referral_api.export.sources import ExportSource
from referral_api.referrals.models import Referral
from signpost_platform import jobs
from signpost_platform.db import Repository, columns_of


@dataclass(frozen=True, slots=True)
class StoredExport:
    id: str
    status: str
    request: str
    group_id: str | None
    resource_types: str
    since: datetime | None
    pseudonymised: bool
    subject: str
    organisation: str | None
    transaction_at: datetime
    total_resources: int | None
    written_resources: int
    withdrawn_referrals: int
    withdrawn_people: int
    cursor_type: str | None
    cursor_id: str | None
    failure_reason: str | None
    attempt: int
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None


_STORED = columns_of(ExportJob, StoredExport)


@dataclass(frozen=True, slots=True)
class Selection:
    """The rows a job exports: within the caller's organisation, the Group, changed since."""

    organisation: str | None
    receiver_ods: str | None
    role: str | None
    since: datetime | None


@dataclass(frozen=True, slots=True)
class ExportedRow:
    id: str
    resource: str
    person_key: str


class ExportRepository(Repository):
    async def create(self, values: dict[str, Any]) -> None:
        await self.session.execute(insert(ExportJob).values(**values))

    async def get(self, job_id: str) -> StoredExport | None:
        row = (await self.session.execute(select(*_STORED).where(ExportJob.id == job_id))).first()
        return StoredExport(*row) if row else None

    async def delete(self, job_id: str) -> bool:
        result = await self.session.execute(delete(ExportJob).where(ExportJob.id == job_id))
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def delete_finished_before(self, cutoff: datetime) -> int:
        """Delete the jobs (and their files) that finished before `cutoff`."""
        result = await self.session.execute(delete(ExportJob).where(ExportJob.finished_at < cutoff))
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def claimable(self, stale_before: datetime) -> list[tuple[str, int]]:
        """(id, attempt) of the jobs waiting, or running with a stale heartbeat, oldest first."""
        rows = await self.session.execute(
            select(ExportJob.id, ExportJob.attempt)
            .where(
                or_(
                    ExportJob.status == "accepted",
                    (ExportJob.status == "running") & (ExportJob.updated_at < stale_before),
                )
            )
            .order_by(ExportJob.created_at, ExportJob.id)
        )
        return [(row[0], row[1]) for row in rows]

    async def claim(self, job_id: str, attempt: int, stale_before: datetime, now: datetime) -> bool:
        return await jobs.claim(
            self.session, ExportJob, job_id, attempt, stale_before, now, claimable=("accepted",)
        )

    async def update(self, job_id: str, attempt: int, values: dict[str, Any]) -> bool:
        """Update the job if `attempt` is still its run; False if it was taken over or
        cancelled (deleted)."""
        return await jobs.update_if_current(self.session, ExportJob, job_id, attempt, values)

    async def add_part(self, job_id: str, resource_type: str, line_count: int, body: str) -> None:
        position = (
            await self.session.execute(
                select(func.coalesce(func.max(ExportPart.position), 0)).where(
                    ExportPart.job_id == job_id
                )
            )
        ).scalar_one()
        await self.session.execute(
            insert(ExportPart).values(
                job_id=job_id,
                position=position + 1,
                resource_type=resource_type,
                line_count=line_count,
                body=body,
            )
        )

    async def line_counts(self, job_id: str) -> dict[str, int]:
        rows = await self.session.execute(
            select(ExportPart.resource_type, func.sum(ExportPart.line_count))
            .where(ExportPart.job_id == job_id)
            .group_by(ExportPart.resource_type)
        )
        return {row[0]: int(row[1]) for row in rows}

    async def part_positions(self, job_id: str, resource_type: str) -> list[int]:
        rows = await self.session.execute(
            select(ExportPart.position)
            .where(ExportPart.job_id == job_id, ExportPart.resource_type == resource_type)
            .order_by(ExportPart.position)
        )
        return [row[0] for row in rows]

    async def part_body(self, job_id: str, position: int) -> str | None:
        return (
            await self.session.execute(
                select(ExportPart.body).where(
                    ExportPart.job_id == job_id, ExportPart.position == position
                )
            )
        ).scalar_one_or_none()

    async def count(self, source: ExportSource, selection: Selection) -> int:
        statement = _from(source, select(func.count()), selection, withdrawn=False)
        return int((await self.session.execute(statement)).scalar_one())

    async def rows(
        self, source: ExportSource, selection: Selection, after_id: str | None, limit: int
    ) -> list[ExportedRow]:
        """The next `limit` rows after `after_id` (in id order): a run never holds more."""
        person = _person(source)
        statement = _from(
            source,
            select(source.table.id, source.table.resource, person),
            selection,
            withdrawn=False,
        )
        if after_id is not None:
            statement = statement.where(source.table.id > after_id)
        statement = statement.order_by(source.table.id).limit(limit)
        return [ExportedRow(*row) for row in await self.session.execute(statement)]

    async def withdrawn(self, source: ExportSource, selection: Selection) -> tuple[int, int]:
        """(referrals, people) of the selection left out because the person withdrew consent
        (counted on `source`: the ServiceRequests)."""
        person = _person(source)
        statement = _from(
            source,
            select(func.count(source.table.id), func.count(func.distinct(person))),
            selection,
            withdrawn=True,
        )
        row = (await self.session.execute(statement)).one()
        return int(row[0]), int(row[1])


def _person(source: ExportSource) -> Any:
    if source.person is None:
        return Referral.person_key
    return func.coalesce(Referral.person_key, source.person)


def _from(source: ExportSource, statement: Any, selection: Selection, *, withdrawn: bool) -> Any:
    """`statement` over the source's rows of `selection`: those whose person withdrew consent
    (`withdrawn`), or every other one."""
    table = source.table
    if table is not Referral:
        statement = statement.select_from(table).join(
            Referral, Referral.id == source.referral, isouter=source.person is not None
        )
    conditions: list[ColumnElement[bool]] = []
    organisations = [Referral.requester_ods, Referral.receiver_ods]
    if source.organisation is not None:
        organisations.append(source.organisation)
    if selection.organisation is not None:
        conditions.append(or_(*(column == selection.organisation for column in organisations)))
    if selection.receiver_ods is not None:
        conditions.append(Referral.receiver_ods == selection.receiver_ods)
    if selection.role is not None:
        conditions.append(Referral.received_by_role == selection.role)
    if selection.since is not None:
        conditions.append(table.last_updated_at > selection.since)
    left_out = select(PersonConsent.person_key).where(PersonConsent.withdrawn.is_(True))
    person = _person(source)
    conditions.append(person.in_(left_out) if withdrawn else person.not_in(left_out))
    return statement.where(*conditions)
