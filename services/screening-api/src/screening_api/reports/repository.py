"""The SQL of the screening process metrics: counts grouped by month, clinic and pathway.

Every count comes back with its key sum, computed in the same SELECT from the record keys of
the records it counts (a response, or an invitation: a keyed hash of its id,
`signpost_platform.cell_keys`), so the service can publish it by the cell key method.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from screening_api.handoff.models import ReferralHandoff
from screening_api.invitations.models import InvitationRecord
from screening_api.responses.models import ResponseAnswerRecord, ResponseRecord
from signpost_platform.cell_keys import hex_number, key_sum, record_key
from signpost_platform.db import Repository, dialect_of
from signpost_schemas.disclosure import RecordKeys

GroupKey = tuple[str, str, str | None]  # (month YYYY-MM, clinic ODS, pathway)
Keyed = tuple[int, int]  # (count, key sum of the records counted)


@dataclass(frozen=True, slots=True)
class ReportFilter:
    start: datetime | None
    end: datetime | None
    clinics: list[str]
    pathways: list[str]
    questionnaire_urls: list[str]


def _month(session: AsyncSession, column: Any) -> ColumnElement[str]:
    if dialect_of(session) == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM")
    return func.strftime("%Y-%m", column)


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return case((condition, 1), else_=0)


def _count_when(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(_flag(condition)), 0)


def _keyed(values: Sequence[Any]) -> list[Keyed]:
    """(count, key sum) pairs from a row's alternating count and key sum columns."""
    return [(int(values[i]), int(values[i + 1])) for i in range(0, len(values), 2)]


def _reported(
    report: ReportFilter,
    model: type[ResponseRecord] | type[InvitationRecord],
    at: Any,
) -> list[ColumnElement[bool]]:
    """The rows of `model` a report asks for: `at` within its period, and its clinics,
    pathways and questionnaires when it names them."""
    conditions: list[ColumnElement[bool]] = []
    if report.start:
        conditions.append(at >= report.start)
    if report.end:
        conditions.append(at < report.end)
    if report.clinics:
        conditions.append(model.clinic_ods.in_(report.clinics))
    if report.pathways:
        conditions.append(model.pathway.in_(report.pathways))
    if report.questionnaire_urls:
        conditions.append(model.questionnaire_url.in_(report.questionnaire_urls))
    return conditions


class ReportRepository(Repository):
    def __init__(self, session: AsyncSession, keys: RecordKeys) -> None:
        super().__init__(session)
        dialect = dialect_of(session)
        # Each response's and invitation's record key, from its id.
        self.response_key = record_key(keys.record, hex_number(dialect, ResponseRecord.id))
        self.invitation_key = record_key(keys.record, hex_number(dialect, InvitationRecord.id))

    def _counted(self, *conditions: ColumnElement[bool] | None) -> list[Any]:
        """For each condition (None: every row), the number of responses meeting it and the
        sum of their record keys."""
        measures: list[Any] = []
        for condition in conditions:
            if condition is None:
                measures += [func.count(), key_sum(self.response_key)]
            else:
                measures += [_count_when(condition), key_sum(self.response_key, _flag(condition))]
        return measures

    def _completed(self, report: ReportFilter) -> list[ColumnElement[bool]]:
        return [
            ResponseRecord.status == "completed",
            *_reported(report, ResponseRecord, ResponseRecord.completed_at),
        ]

    def _grouped(self, *measures: Any) -> Select[Any]:
        month = _month(self.session, ResponseRecord.completed_at).label("month")
        return select(month, ResponseRecord.clinic_ods, ResponseRecord.pathway, *measures)

    async def _rows(self, statement: Select[Any]) -> list[Sequence[Any]]:
        return [tuple(row) for row in await self.session.execute(statement)]

    async def _named(
        self, statement: Select[Any], names: Sequence[str]
    ) -> dict[GroupKey, dict[str, Keyed]]:
        """Each group's measures (the pairs `_counted` selects) by name."""
        return {
            (row[0], row[1], row[2]): dict(zip(names, _keyed(row[3:]), strict=True))
            for row in await self._rows(statement)
        }

    async def screening_counts(self, report: ReportFilter) -> dict[GroupKey, dict[str, Keyed]]:
        positive = ResponseRecord.screen_positive.is_(True)
        statement = (
            self._grouped(
                *self._counted(
                    None,
                    positive,
                    positive & ResponseRecord.wants_help.is_(True),
                    positive & ResponseRecord.wants_help.is_(False),
                )
            )
            .where(*self._completed(report))
            .group_by("month", ResponseRecord.clinic_ods, ResponseRecord.pathway)
        )
        names = ("completed", "positive", "wants_help", "declined_help")
        return await self._named(statement, names)

    async def domain_counts(self, report: ReportFilter) -> dict[GroupKey, dict[str, Keyed]]:
        """Completed responses flagging each domain (a response counts once per domain)."""
        flagged = (
            select(ResponseAnswerRecord.response_id, ResponseAnswerRecord.domain)
            .where(ResponseAnswerRecord.is_flag.is_(True))
            .distinct()
            .subquery()
        )
        statement = (
            self._grouped(flagged.c.domain, *self._counted(None))
            .join(flagged, flagged.c.response_id == ResponseRecord.id)
            .where(*self._completed(report))
            .group_by("month", ResponseRecord.clinic_ods, ResponseRecord.pathway, flagged.c.domain)
        )
        counts: dict[GroupKey, dict[str, Keyed]] = {}
        for month, clinic, pathway, domain, count, keys in await self._rows(statement):
            counts.setdefault((month, clinic, pathway), {})[domain] = (int(count), int(keys))
        return counts

    async def referral_counts(self, report: ReportFilter) -> dict[GroupKey, dict[str, Keyed]]:
        """Hand-offs of completed responses (one per response: its record key is the
        response's)."""
        sent = ReferralHandoff.state == "sent"
        statement = (
            self._grouped(
                *self._counted(
                    sent,
                    ~sent,
                    ReferralHandoff.referral_accepted.is_(True),
                    ReferralHandoff.referral_closed.is_(True),
                )
            )
            .join(ReferralHandoff, ReferralHandoff.response_id == ResponseRecord.id)
            .where(*self._completed(report))
            .group_by("month", ResponseRecord.clinic_ods, ResponseRecord.pathway)
        )
        names = ("referred", "referral_pending", "referral_accepted", "referral_closed")
        return await self._named(statement, names)

    async def invitation_counts(self, report: ReportFilter) -> dict[GroupKey, Keyed]:
        conditions = _reported(report, InvitationRecord, InvitationRecord.invited_at)
        month = _month(self.session, InvitationRecord.invited_at).label("month")
        statement = (
            select(
                month,
                InvitationRecord.clinic_ods,
                InvitationRecord.pathway,
                func.count(),
                key_sum(self.invitation_key),
            )
            .where(*conditions)
            .group_by("month", InvitationRecord.clinic_ods, InvitationRecord.pathway)
        )
        return {(row[0], row[1], row[2]): _keyed(row[3:])[0] for row in await self._rows(statement)}

    async def item_declines(self, report: ReportFilter) -> list[tuple[str, str, str, Keyed, Keyed]]:
        """(questionnaire url, version, linkId, answered, "don't want to answer") per item,
        each count with its key sum (a response answers an item once: its record key)."""
        statement = (
            select(
                ResponseRecord.questionnaire_url,
                ResponseRecord.questionnaire_version,
                ResponseAnswerRecord.link_id,
                *self._counted(None, ResponseAnswerRecord.is_declined.is_(True)),
            )
            .join(ResponseAnswerRecord, ResponseAnswerRecord.response_id == ResponseRecord.id)
            .where(*self._completed(report))
            .group_by(
                ResponseRecord.questionnaire_url,
                ResponseRecord.questionnaire_version,
                ResponseAnswerRecord.link_id,
            )
            .order_by(
                ResponseRecord.questionnaire_url,
                ResponseRecord.questionnaire_version,
                ResponseAnswerRecord.link_id,
            )
        )
        items = []
        for row in await self._rows(statement):
            answered, declined = _keyed(row[3:])
            items.append((row[0], row[1], row[2], answered, declined))
        return items
