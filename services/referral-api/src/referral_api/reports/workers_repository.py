"""All SQL of the workers report: each worker's activity, from the activity facts.

The facts refresh keeps `report_activity`: one row per worker's activity on a referral, a
contact they took part in or the referral held as its Task's owner (see
`facts_repository.insert_activity_facts`), with its referral's record key, so a referral or a
contact counted here has the cell key it has in the other reports. One statement filters the
rows by the period and groups them (`_counts`); counts are distinct (a contact with two
workers of one role is one contact of that role). Over all time, filtered only by the columns
it groups by, a request sums the facts' first-row flags in one pass (`_summed`). Only
unrounded grouped counts come back; disclosure control is applied by the service.
"""

from dataclasses import replace
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from referral_api.reports.expressions import flag
from referral_api.reports.models import ReportActivity
from referral_api.reports.query import ReportQuery
from referral_api.reports.repository import ReportRepository
from referral_api.reports.tables import Row, key_of
from referral_api.reports.workers import FIRST_FLAGS, OUTCOME_CODES, OUTCOME_COLUMNS
from signpost_platform.cell_keys import key_sum
from signpost_platform.db import AnySelect, table_of

A = table_of(ReportActivity)
# Each activity row is one (referral, contact, worker, role): grouped by both, a contact
# needs no de-duplicating.
ONE_ROW_EACH = frozenset(("role", "worker"))


def in_period(query: ReportQuery) -> list[ColumnElement[bool]]:
    """Contacts dated in the period, and referrals held while open at some time in it (from
    their referral date until the day they ended, or still open)."""
    where: list[ColumnElement[bool]] = []
    if query.last_day is not None:
        where.append(A.c.day <= query.last_day)
    if query.first_day is not None:
        held_open = and_(A.c.contact == 0, A.c.until.is_(None))
        where.append(or_(A.c.until >= query.first_day, held_open))
    return where


class WorkerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.reports = ReportRepository(session)

    def _where(self, query: ReportQuery) -> list[ColumnElement[bool]]:
        return [
            *in_period(query),
            *(
                A.c[name].in_(self.reports.code_of(name, values))
                for name, values in query.filters.items()
            ),
        ]

    def _summed(self, query: ReportQuery, *, with_whole: bool = False) -> AnySelect:
        """One pass, for a request over all time that filters only by what it groups by
        (`_all_time`): each referral and contact of a group is then the one its group's
        first-row flag marks. `with_whole` adds the sums of the whole scope's flags,
        `WHOLE`-prefixed: with no filter the groups share out every row, so they add up to
        the total."""
        grouping = frozenset(query.group_by)
        dims = [A.c[name] for name in query.group_by]
        sums = _flag_sums(grouping)
        if with_whole:
            sums += _flag_sums(frozenset(), WHOLE)
        return select(*dims, *sums).where(*self._where(query)).group_by(*dims)

    def _counts(self, query: ReportQuery) -> AnySelect:
        """Three levels, so nothing is counted DISTINCT (each DISTINCT aggregate is a sort of
        its own per group):

        1. one row per group, referral and contact (and one per group and referral held);
           already so when grouped by role and worker;
        2. one row per group and referral: its record key and its contacts, all and by
           outcome;
        3. per group: the referrals (caseload) and the sums, each key sum the counted records'
           record keys added up. A contact's record key is its referral's.
        """
        if _all_time(query, frozenset(query.group_by)):
            return self._summed(query)
        where = self._where(query)
        dims = [A.c[name] for name in query.group_by]
        if set(query.group_by) >= ONE_ROW_EACH:
            contact_rows = (
                select(*dims, A.c.referral_key, A.c.contact, A.c.record_key, A.c.outcome)
                .where(*where)
                .subquery("contact_row")
            )
        else:
            contact_rows = (
                select(
                    *dims,
                    A.c.referral_key,
                    A.c.contact,
                    func.max(A.c.record_key).label("record_key"),
                    func.max(A.c.outcome).label("outcome"),
                )
                .where(*where)
                .group_by(*dims, A.c.referral_key, A.c.contact)
                .subquery("contact_row")
            )
        level_1 = [contact_rows.c[name] for name in query.group_by]
        referral_rows = (
            select(
                *level_1,
                func.max(contact_rows.c.record_key).label("record_key"),
                func.sum(flag(contact_rows.c.contact > 0)).label("contacts"),
                *(
                    func.sum(flag(contact_rows.c.outcome == OUTCOME_CODES[value])).label(name)
                    for name, value in OUTCOME_COLUMNS.items()
                ),
            )
            .group_by(*level_1, contact_rows.c.referral_key)
            .subquery("referral_row")
        )
        level_2 = [referral_rows.c[name] for name in query.group_by]
        keys = referral_rows.c.record_key
        return select(
            *level_2,
            func.count().label("caseload"),
            key_sum(keys).label(key_of("caseload")),
            *(
                column
                for name in ("contacts", *OUTCOME_COLUMNS)
                for column in (
                    func.coalesce(func.sum(referral_rows.c[name]), 0).label(name),
                    key_sum(keys, referral_rows.c[name]).label(key_of(name)),
                )
            ),
        ).group_by(*level_2)

    async def counts(self, query: ReportQuery) -> tuple[list[Row], Row]:
        """Per group (the query's group-by; one row when none) and over the whole scope: the
        caseload (distinct referrals held or seen), the contacts and those by attendance
        outcome. Over all time with no filter, one pass counts both (`_summed`)."""
        await self.reports.load_codes("worker")
        if query.group_by and _all_time(query, frozenset()):
            rows = await self.reports.rows(
                self._summed(query, with_whole=True), {"worker": "worker"}
            )
            total = dict.fromkeys(_COUNTED, 0)
            for row in rows:
                for name in _COUNTED:
                    total[name] += int(row.pop(WHOLE + name) or 0)
            return rows, total
        rows = await self.reports.rows(self._counts(query), {"worker": "worker"})
        if not query.group_by:
            return rows, rows[0]
        whole = replace(query, group_by=())
        [total] = await self.reports.rows(self._counts(whole), {"worker": "worker"})
        return rows, total


def _all_time(query: ReportQuery, grouping: frozenset[str]) -> bool:
    """Whether `query` covers all time and filters only by dimensions in `grouping`: then
    each referral and contact of a group is the one its group's first-row flag marks."""
    return not (query.first_day or query.last_day) and set(query.filters) <= grouping


# The prefix of the whole scope's sums in a grouped pass (`WorkerRepository._summed`).
WHOLE = "whole_"
_COUNTED = tuple(
    column for name in ("caseload", "contacts", *OUTCOME_COLUMNS) for column in (name, key_of(name))
)


def _flag_sums(grouping: frozenset[str], prefix: str = "") -> list[ColumnElement[Any]]:
    """The counts of a grouping (`FIRST_FLAGS`) as sums of its first-row flags, and their
    key sums, named with `prefix`."""
    first_referral, first_contact = FIRST_FLAGS[grouping]
    contact = flag(A.c.contact > 0) if first_contact is None else A.c[first_contact]
    counted = {
        "caseload": A.c[first_referral],
        "contacts": contact,
        **{
            name: contact * flag(A.c.outcome == OUTCOME_CODES[value])
            for name, value in OUTCOME_COLUMNS.items()
        },
    }
    return [
        column
        for name, value in counted.items()
        for column in (
            func.coalesce(func.sum(value), 0).label(prefix + name),
            key_sum(A.c.record_key, value).label(prefix + key_of(name)),
        )
    ]
