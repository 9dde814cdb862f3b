"""All SQL of the workers report: each worker's activity, from the normalised tables.

Like the data-quality report it reads the normalised tables rather than the report facts: the
facts are one row per referral, classified by the referral's dimensions, while a worker's
activity is contacts (a contact may have several workers, a referral several contacts) and the
referrals they hold. One statement: the activity rows (a contact's worker, or a Task's owner,
with the referral and the contact's outcome) unioned, filtered and grouped (`_counts`).
Counts are distinct (a contact with two workers of one role is one contact of that role), with
the referral's record key as the key of each record, so a referral or a contact counted here
has the cell key it has in the other reports. Only unrounded grouped counts come back;
disclosure control is applied by the service.
"""

from sqlalchemy import String, Subquery, func, literal, null, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from referral_api.lifecycle.models import Contact, ContactWorker, ReferralLifecycle, ReferralTask
from referral_api.referrals.models import Referral
from referral_api.reports.expressions import flag
from referral_api.reports.query import ReportQuery
from referral_api.reports.tables import Row, key_of
from signpost_platform.cell_keys import hex_number, key_sum, record_key
from signpost_platform.db import AnySelect, Repository, dialect_of, table_of
from signpost_schemas.disclosure import RecordKeys

R = table_of(Referral)
C = table_of(Contact)
CW = table_of(ContactWorker)
T = table_of(ReferralTask)
L = table_of(ReferralLifecycle)

WITHDRAWN = "entered-in-error"
# The attendance outcomes counted, as in the attendance report (appointments due).
OUTCOMES = ("attended", "dna", "not_seen")
_OUTCOME_VALUES = {"attended": "attended", "dna": "dna", "not_seen": "not-seen"}


def _worker(system: ColumnElement[str], value: ColumnElement[str]) -> ColumnElement[str]:
    return system + literal("|", String) + value


class WorkerRepository(Repository):
    def __init__(self, session: AsyncSession, keys: RecordKeys) -> None:
        super().__init__(session)
        self.dialect = dialect_of(session)
        self.keys = keys

    def _activity(self, query: ReportQuery) -> Subquery:
        """One row per (contact, worker) in the period, and per referral held by its Task's
        owner while open in the period."""
        contacted = [C.c.status != WITHDRAWN]
        if query.start is not None:
            contacted.append(C.c.contact_at >= query.start)
        if query.end is not None:
            contacted.append(C.c.contact_at < query.end)
        contacts = (
            select(
                R.c.id.label("referral_id"),
                C.c.id.label("contact_id"),
                _worker(CW.c.worker_system, CW.c.worker_value).label("worker"),
                func.coalesce(CW.c.role, R.c.received_by_role).label("role"),
                C.c.attendance_outcome.label("outcome"),
            )
            .select_from(CW.join(C, C.c.id == CW.c.contact_id).join(R, R.c.id == CW.c.referral_id))
            .where(*contacted)
        )
        ended = func.coalesce(L.c.closed_at, L.c.declined_at, L.c.cancelled_at)
        open_in_period = [T.c.owner_value.is_not(None), T.c.status != WITHDRAWN]
        if query.end is not None:
            open_in_period.append(R.c.authored_at < query.end)
        if query.start is not None:
            open_in_period.append(or_(ended.is_(None), ended >= query.start))
        held = (
            select(
                R.c.id.label("referral_id"),
                null().label("contact_id"),
                _worker(T.c.owner_system, T.c.owner_value).label("worker"),
                R.c.received_by_role.label("role"),
                null().label("outcome"),
            )
            .select_from(
                T.join(R, R.c.id == T.c.referral_id).outerjoin(L, L.c.referral_id == R.c.id)
            )
            .where(*open_in_period)
        )
        return union_all(contacts, held).subquery("activity")

    def _counts(self, query: ReportQuery) -> AnySelect:
        """Three levels, so nothing is counted DISTINCT (each DISTINCT aggregate is a sort of
        its own per group, ten of them over every activity row at a million referrals):

        1. one row per group, referral and contact (and one per group and referral held);
        2. one row per group and referral: its record key, computed once, and its contacts,
           all and by outcome;
        3. per group: the referrals (caseload) and the sums, each key sum the counted records'
           record keys added up. A contact's record key is its referral's, as before.
        """
        activity = self._activity(query)
        dims = [activity.c[name] for name in query.group_by]
        where = [activity.c[name].in_(values) for name, values in query.filters.items()]
        contact_rows = (
            select(
                *dims,
                activity.c.referral_id,
                activity.c.contact_id,
                func.max(activity.c.outcome).label("outcome"),
            )
            .where(*where)
            .group_by(*dims, activity.c.referral_id, activity.c.contact_id)
            .subquery("contact_row")
        )
        level_1 = [contact_rows.c[name] for name in query.group_by]
        referral_rows = (
            select(
                *level_1,
                record_key(
                    self.keys.record, hex_number(self.dialect, contact_rows.c.referral_id)
                ).label("record_key"),
                func.count(contact_rows.c.contact_id).label("contacts"),
                *(
                    func.sum(flag(contact_rows.c.outcome == _OUTCOME_VALUES[name])).label(name)
                    for name in OUTCOMES
                ),
            )
            .group_by(*level_1, contact_rows.c.referral_id)
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
                for name in ("contacts", *OUTCOMES)
                for column in (
                    func.coalesce(func.sum(referral_rows.c[name]), 0).label(name),
                    key_sum(keys, referral_rows.c[name]).label(key_of(name)),
                )
            ),
        ).group_by(*level_2)

    async def counts(self, query: ReportQuery) -> list[Row]:
        """Per group (the query's group-by; one row when none): the caseload (distinct
        referrals held or seen), the contacts and those by attendance outcome."""
        result = await self.session.execute(self._counts(query))
        return [dict(row._mapping) for row in result]
