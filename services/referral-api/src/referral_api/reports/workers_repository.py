"""All SQL of the workers report: each worker's activity, from the activity facts.

The facts refresh keeps `report_activity`: one row per worker's activity on a referral, a
contact they took part in or the referral held as its Task's owner (see
`facts_repository.insert_activity_facts`), with its referral's record key, so a referral or a
contact counted here has the cell key it has in the other reports. Counts are distinct (a
contact with two workers of one role is one contact of that role).

The facts' first-row flags mark the first row of each referral and of each contact per
grouping, over all of that referral's activity (`workers.FIRST_FLAGS`), so a flag summed over
a group's rows counts each of its referrals or contacts once (`_flag_grouping` says which
flags a query may sum):
- over all time, from the flags' totals the refresh keeps per role, worker and attendance
  outcome (`report_activity_total`, `_summed`);
- over a period, from the rows dated in it (`_flagged`): a contact's rows all carry its date,
  so the flags count its contacts; its referrals are counted once each per group.
When a filter keeps several values of a dimension, no flag marks one row of each for the whole
scope, nor for the groups unless the query groups by that dimension: those are counted by
grouping the rows per referral and contact (`_grouped`).

Only unrounded grouped counts come back; disclosure control is applied by the service.
"""

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import and_, case, func, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.schema import Table
from sqlalchemy.sql.selectable import Subquery

from referral_api.reports.expressions import flag
from referral_api.reports.models import ReportActivity, ReportActivityTotal
from referral_api.reports.query import ReportQuery
from referral_api.reports.repository import ReportRepository, integer_sum
from referral_api.reports.tables import Row, key_of
from referral_api.reports.workers import FIRST_FLAGS, OUTCOME_CODES, OUTCOME_COLUMNS
from signpost_platform.cell_keys import key_sum
from signpost_platform.db import AnySelect, dialect_of, table_of

A = table_of(ReportActivity)
TOTALS = table_of(ReportActivityTotal)
# Each activity row is one (referral, contact, worker, role): grouped by both, a contact
# needs no de-duplicating.
ONE_ROW_EACH = frozenset(("role", "worker"))
# The report's columns besides its groups, each beside its key sum.
COUNTED = ("caseload", "contacts", *OUTCOME_COLUMNS)
# Worker codes are decoded as the worker dimension's values.
WORKER = {"worker": "worker"}
# Each attendance outcome counted: the report's column and the facts' code.
OUTCOMES = {name: OUTCOME_CODES[value] for name, value in OUTCOME_COLUMNS.items()}


def _of_outcome(table: Table, value: ColumnElement[Any], outcome: int | None) -> ColumnElement[Any]:
    """`value` on the rows of `table` with the attendance outcome `outcome` (0 on the others);
    every row's when None."""
    if outcome is None:
        return value
    return case((table.c.outcome == outcome, value), else_=0)


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


def _flag_grouping(query: ReportQuery, grouping: frozenset[str]) -> frozenset[str] | None:
    """The grouping whose first-row flags count each referral and contact once per group of
    `grouping` among the rows `query`'s filters keep: `grouping` and the filtered dimensions,
    when each filtered dimension it does not group by keeps one value (every kept row then
    holds that value, so the first row of a referral or contact among a group's kept rows is
    its first in that grouping). None when a filter keeps several."""
    others = {name for name in query.filters if name not in grouping}
    if any(len(query.filters[name]) != 1 for name in others):
        return None
    return grouping | others


class WorkerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.reports = ReportRepository(session)

    def _filters(self, table: Table, query: ReportQuery) -> list[ColumnElement[bool]]:
        return [
            table.c[name].in_(self.reports.code_of(name, values))
            for name, values in query.filters.items()
        ]

    def _where(self, query: ReportQuery) -> list[ColumnElement[bool]]:
        return [*in_period(query), *self._filters(A, query)]

    async def counts(self, query: ReportQuery) -> tuple[list[Row], Row]:
        """Per group (the query's group-by; one row when none) and over the whole scope: the
        caseload (distinct referrals held or seen), the contacts and those by attendance
        outcome."""
        await self.reports.load_codes("worker")
        all_time = query.first_day is None and query.last_day is None
        whole = _flag_grouping(query, frozenset())
        if whole is None:
            # A filter keeps several values: the whole scope's rows are grouped, and so are
            # the groups', unless they are over all time and the flags apply to them (several
            # roles, grouped by role).
            if all_time and _flag_grouping(query, frozenset(query.group_by)) is not None:
                rows = await self._summed(query, query.group_by)
            else:
                rows = await self.reports.rows(self._grouped(query), WORKER)
            [total] = await self.reports.rows(self._grouped(replace(query, group_by=())), WORKER)
            return rows, total
        if not all_time:
            return await self._flagged(query, whole)
        rows = await self._summed(query, query.group_by)
        if not query.group_by:
            return rows, rows[0]
        [total] = await self._summed(query, ())
        return rows, total

    async def _summed(self, query: ReportQuery, group_by: Sequence[str]) -> list[Row]:
        """Over all time, grouped by `group_by`: the sums of the flags' totals the refresh
        keeps per role, worker and attendance outcome (`report_activity_total`), the contacts
        of each outcome those of its rows. At a million referrals the activity facts are 2.9
        million rows (0.5 s to sum); their totals 7,200."""
        flags = _flag_grouping(query, frozenset(group_by))
        assert flags is not None  # `counts` asks only when the flags apply
        first_referral, first_contact = FIRST_FLAGS[flags]
        contacts = first_contact or "contacts"
        sums: dict[str, tuple[str, int | None]] = {
            "caseload": (first_referral, None),
            "contacts": (contacts, None),
        }
        sums.update({name: (contacts, code) for name, code in OUTCOMES.items()})

        def summed(column: str, outcome: int | None, name: str) -> ColumnElement[Any]:
            return integer_sum(_of_outcome(TOTALS, TOTALS.c[column], outcome), name)

        dims = [TOTALS.c[name] for name in group_by]
        statement = (
            select(
                *dims,
                *(
                    column
                    for name, (counted, outcome) in sums.items()
                    for column in (
                        summed(counted, outcome, name),
                        summed(key_of(counted), outcome, key_of(name)),
                    )
                ),
            )
            .where(*self._filters(TOTALS, query))
            .group_by(*dims)
        )
        return await self.reports.rows(statement, WORKER)

    async def _flagged(self, query: ReportQuery, whole: frozenset[str]) -> tuple[list[Row], Row]:
        """Over a period, when the flags apply (`_flag_grouping`): the rows kept, counted per
        group and referral (its contacts the flags mark), then per group. On PostgreSQL the
        groups and the whole scope in one scan, by GROUPING SETS; on SQLite (which has none)
        in two statements."""
        if not query.group_by:
            [total] = await self.reports.rows(self._per_group(query, (), whole), WORKER)
            return [total], total
        flags = _flag_grouping(query, frozenset(query.group_by))
        assert flags is not None  # the whole scope's apply, so the groups' do
        if dialect_of(self.reports.session) == "postgresql":
            rows, total = await self.reports.split_total(
                self._per_group(query, query.group_by, flags, whole), WORKER
            )
            # No row kept: no group, and a whole scope of none.
            return rows, total or {c: 0 for n in COUNTED for c in (n, key_of(n))}
        rows = await self.reports.rows(self._per_group(query, query.group_by, flags), WORKER)
        [total] = await self.reports.rows(self._per_group(query, (), whole), WORKER)
        return rows, total

    def _per_group(
        self,
        query: ReportQuery,
        group_by: Sequence[str],
        flags: frozenset[str],
        whole: frozenset[str] | None = None,
    ) -> AnySelect:
        """Two levels: per group and referral, its record key and its contacts (all and by
        outcome) as sums of the contact flags of the grouping `flags`; then per group
        (`_per_group_of`). With `whole`, the whole scope too, by GROUPING SETS, its contacts
        the flags of the grouping `whole`, its row marked by a non-zero `grouping_set`."""
        dims = [A.c[name] for name in group_by]

        def contact_flag(grouping: frozenset[str]) -> ColumnElement[Any]:
            first_contact = FIRST_FLAGS[grouping][1]
            return flag(A.c.contact > 0) if first_contact is None else A.c[first_contact]

        def contacts(outcome: int | None) -> ColumnElement[Any]:
            def summed(grouping: frozenset[str]) -> ColumnElement[Any]:
                return func.sum(_of_outcome(A, contact_flag(grouping), outcome))

            if whole is None:
                return summed(flags)
            return case((func.grouping(*dims) != 0, summed(whole)), else_=summed(flags))

        marked = [func.grouping(*dims).label("grouping_set")] if whole is not None else []
        referral_rows = (
            select(
                *dims,
                *marked,
                func.max(A.c.record_key).label("record_key"),
                contacts(None).label("contacts"),
                *(contacts(code).label(name) for name, code in OUTCOMES.items()),
            )
            .where(*self._where(query))
            .group_by(
                *(
                    [func.grouping_sets(tuple_(*dims, A.c.referral_key), tuple_(A.c.referral_key))]
                    if whole is not None
                    else [*dims, A.c.referral_key]
                )
            )
            .subquery("referral_row")
        )
        level_2 = [referral_rows.c[name] for name in group_by]
        if whole is not None:
            level_2.append(referral_rows.c.grouping_set)
        return _per_group_of(referral_rows, level_2)

    def _grouped(self, query: ReportQuery) -> AnySelect:
        """When a filter keeps several values of a dimension the query does not group by (no
        flag applies; for the whole scope, of any dimension): three levels, so nothing is
        counted DISTINCT (each DISTINCT aggregate is a sort of its own per group):

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
                    func.sum(flag(contact_rows.c.outcome == code)).label(name)
                    for name, code in OUTCOMES.items()
                ),
            )
            .group_by(*level_1, contact_rows.c.referral_key)
            .subquery("referral_row")
        )
        level_2 = [referral_rows.c[name] for name in query.group_by]
        return _per_group_of(referral_rows, level_2)


def _per_group_of(referral_rows: Subquery, level_2: Sequence[ColumnElement[Any]]) -> AnySelect:
    """Per group (`level_2`) of the rows of one group and referral: the referrals (caseload)
    and the sums of their contacts, each key sum the counted records' record keys added up (a
    contact's record key is its referral's)."""
    keys = referral_rows.c.record_key
    return select(
        *level_2,
        func.count().label("caseload"),
        key_sum(keys).label(key_of("caseload")),
        *(
            column
            for name in COUNTED[1:]
            for column in (
                func.coalesce(func.sum(referral_rows.c[name]), 0).label(name),
                key_sum(keys, referral_rows.c[name]).label(key_of(name)),
            )
        ),
    ).group_by(*level_2)
