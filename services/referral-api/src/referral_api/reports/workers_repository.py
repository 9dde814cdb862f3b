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

from collections.abc import Sequence
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

    async def _summed(self, query: ReportQuery, *, with_whole: bool = False) -> list[Row]:
        """One pass, for a request over all time that filters only by what it groups by
        (`_all_time`): each referral and contact of a group is then the one its group's
        first-row flag marks. `with_whole` adds the sums of the whole scope's flags,
        `WHOLE`-prefixed: with no filter the groups share out every row, so they add up to
        the total.

        The pass groups by attendance outcome too, and the contacts of each outcome are those
        of its rows (`_by_outcome`): four sums a grouping rather than ten, each a plain sum of
        a flag (at a million referrals 540 ms rather than 890)."""
        grouping = frozenset(query.group_by)
        dims = [A.c[name] for name in query.group_by]
        sums = _flag_sums(grouping)
        prefixes = [""]
        if with_whole:
            sums += _flag_sums(frozenset(), WHOLE)
            prefixes.append(WHOLE)
        found = await self.reports.rows(
            select(*dims, A.c.outcome.label(_OUTCOME), *sums)
            .where(*self._where(query))
            .group_by(*dims, A.c.outcome),
            {"worker": "worker"},
        )
        return _by_outcome(found, query.group_by, prefixes)

    async def _counted(self, query: ReportQuery) -> list[Row]:
        """The rows of `_counts`, or of `_summed` when one pass counts them."""
        if _all_time(query, frozenset(query.group_by)):
            return await self._summed(query)
        return await self.reports.rows(self._counts(query), {"worker": "worker"})

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
            rows = await self._summed(query, with_whole=True)
            total = dict.fromkeys(_COUNTED, 0)
            for row in rows:
                for name in _COUNTED:
                    total[name] += row.pop(WHOLE + name)
            return rows, total
        rows = await self._counted(query)
        if not query.group_by:
            return rows, rows[0]
        [total] = await self._counted(replace(query, group_by=()))
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


# The column of a grouped pass's attendance outcome code, and the report's column of the
# contacts of each outcome counted (`_by_outcome`).
_OUTCOME = "outcome_code"
_OUTCOME_COLUMN = {OUTCOME_CODES[value]: name for name, value in OUTCOME_COLUMNS.items()}


def _flag_sums(grouping: frozenset[str], prefix: str = "") -> list[ColumnElement[Any]]:
    """The referrals and contacts of a grouping (`FIRST_FLAGS`) as sums of its first-row
    flags, and their key sums, named with `prefix`."""
    first_referral, first_contact = FIRST_FLAGS[grouping]
    contact = flag(A.c.contact > 0) if first_contact is None else A.c[first_contact]
    counted = {"caseload": A.c[first_referral], "contacts": contact}
    return [
        column
        for name, value in counted.items()
        for column in (
            func.coalesce(func.sum(value), 0).label(prefix + name),
            key_sum(A.c.record_key, value).label(prefix + key_of(name)),
        )
    ]


def _by_outcome(found: list[Row], group_by: Sequence[str], prefixes: Sequence[str]) -> list[Row]:
    """One row per group of a pass grouped by attendance outcome too: its referrals and
    contacts summed over the outcomes, and the contacts of each outcome counted
    (`OUTCOME_COLUMNS`) those of that outcome's row, each with its key sum. A group with no
    row of an outcome has none of it; with no group-by there is one row even with no facts."""
    counted = [prefix + column for prefix in prefixes for column in _COUNTED]
    groups: dict[tuple[Any, ...], Row] = {}
    if not group_by:
        groups[()] = dict.fromkeys(counted, 0)
    for row in found:
        key = tuple(row[name] for name in group_by)
        group = groups.get(key)
        if group is None:
            group = groups[key] = dict(zip(group_by, key, strict=True))
            group.update(dict.fromkeys(counted, 0))
        outcome = _OUTCOME_COLUMN.get(row[_OUTCOME])
        for prefix in prefixes:
            for name in ("caseload", "contacts"):
                group[prefix + name] += int(row[prefix + name] or 0)
                group[prefix + key_of(name)] += int(row[prefix + key_of(name)] or 0)
            if outcome is not None:
                group[prefix + outcome] += int(row[prefix + "contacts"] or 0)
                group[prefix + key_of(outcome)] += int(row[prefix + key_of("contacts")] or 0)
    return list(groups.values())
