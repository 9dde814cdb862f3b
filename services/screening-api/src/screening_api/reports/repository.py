"""The SQL of the screening process metrics: counts grouped by month, clinic and pathway."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from screening_api.handoff.models import ReferralHandoff
from screening_api.invitations.models import InvitationRecord
from screening_api.responses.models import ResponseAnswerRecord, ResponseRecord

GroupKey = tuple[str, str, str | None]  # (month YYYY-MM, clinic ODS, pathway)


@dataclass(frozen=True, slots=True)
class ReportFilter:
    start: datetime | None
    end: datetime | None
    clinics: list[str]
    pathways: list[str]
    questionnaire_urls: list[str]


def _month(session: AsyncSession, column: Any) -> ColumnElement[str]:
    if session.bind.dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM")
    return func.strftime("%Y-%m", column)


def _count_when(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


class ReportRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _completed(self, report: ReportFilter) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = [ResponseRecord.status == "completed"]
        if report.start:
            conditions.append(ResponseRecord.completed_at >= report.start)
        if report.end:
            conditions.append(ResponseRecord.completed_at < report.end)
        if report.clinics:
            conditions.append(ResponseRecord.clinic_ods.in_(report.clinics))
        if report.pathways:
            conditions.append(ResponseRecord.pathway.in_(report.pathways))
        if report.questionnaire_urls:
            conditions.append(ResponseRecord.questionnaire_url.in_(report.questionnaire_urls))
        return conditions

    def _grouped(self, *measures: Any) -> Select[Any]:
        month = _month(self.session, ResponseRecord.completed_at).label("month")
        return select(month, ResponseRecord.clinic_ods, ResponseRecord.pathway, *measures)

    async def _rows(self, statement: Select[Any]) -> list[Sequence[Any]]:
        return [tuple(row) for row in await self.session.execute(statement)]

    async def screening_counts(self, report: ReportFilter) -> dict[GroupKey, dict[str, int]]:
        positive = ResponseRecord.screen_positive.is_(True)
        statement = (
            self._grouped(
                func.count().label("completed"),
                _count_when(positive).label("positive"),
                _count_when(positive & ResponseRecord.wants_help.is_(True)).label("wants_help"),
                _count_when(positive & ResponseRecord.wants_help.is_(False)).label("declined_help"),
            )
            .where(*self._completed(report))
            .group_by("month", ResponseRecord.clinic_ods, ResponseRecord.pathway)
        )
        names = ("completed", "positive", "wants_help", "declined_help")
        return {
            (row[0], row[1], row[2]): dict(zip(names, map(int, row[3:]), strict=True))
            for row in await self._rows(statement)
        }

    async def domain_counts(self, report: ReportFilter) -> dict[GroupKey, dict[str, int]]:
        """Completed responses flagging each domain (a response counts once per domain)."""
        statement = (
            self._grouped(
                ResponseAnswerRecord.domain,
                func.count(func.distinct(ResponseAnswerRecord.response_id)),
            )
            .join(ResponseAnswerRecord, ResponseAnswerRecord.response_id == ResponseRecord.id)
            .where(*self._completed(report), ResponseAnswerRecord.is_flag.is_(True))
            .group_by(
                "month",
                ResponseRecord.clinic_ods,
                ResponseRecord.pathway,
                ResponseAnswerRecord.domain,
            )
        )
        counts: dict[GroupKey, dict[str, int]] = {}
        for month, clinic, pathway, domain, count in await self._rows(statement):
            counts.setdefault((month, clinic, pathway), {})[domain] = int(count)
        return counts

    async def referral_counts(self, report: ReportFilter) -> dict[GroupKey, dict[str, int]]:
        sent = ReferralHandoff.state == "sent"
        statement = (
            self._grouped(
                _count_when(sent).label("referred"),
                _count_when(~sent).label("referral_pending"),
                _count_when(ReferralHandoff.referral_accepted.is_(True)).label("accepted"),
                _count_when(ReferralHandoff.referral_closed.is_(True)).label("closed"),
            )
            .join(ReferralHandoff, ReferralHandoff.response_id == ResponseRecord.id)
            .where(*self._completed(report))
            .group_by("month", ResponseRecord.clinic_ods, ResponseRecord.pathway)
        )
        names = ("referred", "referral_pending", "referral_accepted", "referral_closed")
        return {
            (row[0], row[1], row[2]): dict(zip(names, map(int, row[3:]), strict=True))
            for row in await self._rows(statement)
        }

    async def invitation_counts(self, report: ReportFilter) -> dict[GroupKey, int]:
        conditions: list[ColumnElement[bool]] = []
        if report.start:
            conditions.append(InvitationRecord.invited_at >= report.start)
        if report.end:
            conditions.append(InvitationRecord.invited_at < report.end)
        if report.clinics:
            conditions.append(InvitationRecord.clinic_ods.in_(report.clinics))
        if report.pathways:
            conditions.append(InvitationRecord.pathway.in_(report.pathways))
        if report.questionnaire_urls:
            conditions.append(InvitationRecord.questionnaire_url.in_(report.questionnaire_urls))
        month = _month(self.session, InvitationRecord.invited_at).label("month")
        statement = (
            select(month, InvitationRecord.clinic_ods, InvitationRecord.pathway, func.count())
            .where(*conditions)
            .group_by("month", InvitationRecord.clinic_ods, InvitationRecord.pathway)
        )
        return {(row[0], row[1], row[2]): int(row[3]) for row in await self._rows(statement)}

    async def item_declines(self, report: ReportFilter) -> list[tuple[str, str, str, int, int]]:
        """(questionnaire url, version, linkId, answered, "don't want to answer") per item."""
        statement = (
            select(
                ResponseRecord.questionnaire_url,
                ResponseRecord.questionnaire_version,
                ResponseAnswerRecord.link_id,
                func.count(),
                _count_when(ResponseAnswerRecord.is_declined.is_(True)),
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
        return [(r[0], r[1], r[2], int(r[3]), int(r[4])) for r in await self._rows(statement)]
