"""All SQL about lifecycle resources (Tasks, contacts, assessments) and the lifecycle summary."""

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    BindParameter,
    Select,
    Text,
    and_,
    bindparam,
    case,
    cast,
    delete,
    exists,
    func,
    insert,
    literal_column,
    or_,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import aliased

from referral_api.lifecycle.models import (
    Assessment,
    AssessmentScore,
    Contact,
    ContactWorker,
    ReferralLifecycle,
    ReferralTask,
    SharedDecision,
    SupportOffered,
)
from referral_api.referrals.access import Reach
from referral_api.referrals.models import Referral, ReferralIdentifier
from referral_api.referrals.repository import (
    FOR_UPDATE_COLUMNS,
    ReferralForUpdate,
    referral_for_update,
)
from referral_api.service_use.models import ServiceUse
from signpost_platform.db import (
    DriverStatement,
    Repository,
    Write,
    aware_utc,
    dialect_of,
    execute_core,
)
from signpost_platform.fhir.search import DateRange, Token, date_condition

RESOURCE_TABLES: dict[str, Any] = {
    "Task": ReferralTask,
    "Encounter": Contact,
    "Observation": Assessment,
    "Procedure": SharedDecision,
}


class StoredResource(NamedTuple):
    """A lifecycle resource as served: its id, version, when it last changed and its JSON."""

    id: str
    version: int
    last_updated_at: datetime
    resource: str


@dataclass(frozen=True, slots=True)
class HeldVersion:
    """The version of a sender resource already held: the rule compares (as_of, content_hash)."""

    id: str
    version: int
    as_of: datetime
    content_hash: str


@dataclass(frozen=True, slots=True)
class Looked:
    """The version held of a message's one lifecycle resource, looked up with its referral
    before the message is applied (`MessageRepository.seen_and_owner`): None when it has none."""

    held: HeldVersion | None


@dataclass(frozen=True, slots=True)
class TaskState:
    lifecycle_state: str
    accepted_at: datetime | None
    ended_at: datetime | None
    reason_system: str | None
    reason_code: str | None
    closure_outcome: str | None
    as_of: datetime
    content_hash: str


@dataclass(frozen=True, slots=True)
class Activity:
    """Counts and dates of a referral's contacts, support and assessments."""

    contact_count: int
    dna_count: int
    first_contact_at: datetime | None
    support_offered_count: int
    onward_referral_count: int
    assessment_count: int


def _held_versions(table: Any, *, one: bool) -> Any:
    """The versions held of a referral's resources of `table`, by their sender ids: `one` for a
    single id (the usual message: on the driver), else an IN list."""
    source = (
        table.source_id == bindparam("source_id")
        if one
        else table.source_id.in_(bindparam("source_ids", expanding=True))
    )
    return select(table.source_id, table.id, table.version, table.as_of, table.content_hash).where(
        table.referral_id == bindparam("referral_id"), source
    )


def _activity(key: str = "referral_id", contacts: Any = None) -> Any:
    """A referral's activity counts and first attended contact, counting the rows of
    `contacts` (with the contact table's referral_id, status, attendance_outcome and
    contact_at) as its contacts when given."""
    referral: BindParameter[str] = bindparam(key)
    c = Contact.__table__.c if contacts is None else contacts.c
    live = (c.referral_id == referral, c.status != "entered-in-error")

    def scalar(*columns: Any, where: Any) -> Any:
        return select(*columns).where(*where).scalar_subquery()

    is_dna = case((c.attendance_outcome == "dna", 1), else_=0)
    attended_at = case((c.attendance_outcome == "attended", c.contact_at))
    is_referral = case((SupportOffered.kind == "referral", 1), else_=0)
    support = (SupportOffered.referral_id == referral,)
    assessed = (Assessment.referral_id == referral, Assessment.status != "entered-in-error")
    return select(
        scalar(func.count(), where=live).label("contact_count"),
        scalar(func.coalesce(func.sum(is_dna), 0), where=live).label("dna_count"),
        scalar(func.min(attended_at), where=live).label("first_contact_at"),
        scalar(func.count(), where=support).label("support_offered_count"),
        scalar(func.coalesce(func.sum(is_referral), 0), where=support).label(
            "onward_referral_count"
        ),
        scalar(func.count(), where=assessed).label("assessment_count"),
    )


def _activity_refreshed(contacts: Any = None, *when: Any) -> Any:
    """The summary's activity columns derived again (counting `contacts` as `_activity` does)
    and set in one statement, if `when`, returning the new values; no row (nothing written)
    when none of them changed."""
    # An UPDATE's own columns are bound under their names: the key is bound as `key`.
    activity = _activity("key", contacts)
    derived = activity.subquery("activity")
    summary = ReferralLifecycle.__table__.c
    names = [column.name for column in activity.selected_columns]
    return (
        update(ReferralLifecycle)
        .where(
            ReferralLifecycle.referral_id == bindparam("key"),
            *when,
            or_(*(summary[name].is_distinct_from(derived.c[name]) for name in names)),
        )
        .values({name: derived.c[name] for name in names})
        .returning(*(summary[name] for name in names))
    )


# Built once: constructing a statement and its cache key costs more than running it.
_TABLES = (ReferralTask, Contact, Assessment, SharedDecision)
_HELD = {table: _held_versions(table, one=False) for table in _TABLES}
_HELD_ONE = {table: DriverStatement(_held_versions(table, one=True)) for table in _TABLES}
_DELETE_SUPPORT = delete(SupportOffered).where(SupportOffered.task_id == bindparam("task_id"))
_DELETE_WORKERS = delete(ContactWorker).where(ContactWorker.contact_id == bindparam("contact_id"))
_DELETE_SCORES = delete(AssessmentScore).where(
    AssessmentScore.assessment_id == bindparam("assessment_id")
)
_TASK_STATES = select(
    ReferralTask.lifecycle_state,
    ReferralTask.accepted_at,
    ReferralTask.ended_at,
    ReferralTask.reason_system,
    ReferralTask.reason_code,
    ReferralTask.closure_outcome,
    ReferralTask.as_of,
    ReferralTask.content_hash,
).where(
    ReferralTask.referral_id == bindparam("referral_id"),
    ReferralTask.lifecycle_state.is_not(None),
)
_ACTIVITY = _activity()
_ACTIVITY_REFRESHED = _activity_refreshed()
_REFRESH_ACTIVITY = DriverStatement(_ACTIVITY_REFRESHED)
_ACTIVITY_NAMES = tuple(column.name for column in _ACTIVITY_REFRESHED.exported_columns)
_SUMMARY = select(*ReferralLifecycle.__table__.columns).where(
    ReferralLifecycle.referral_id == bindparam("key")
)
_SUMMARY_COLUMNS = tuple(ReferralLifecycle.__table__.columns)
_SUMMARY_NAMES = tuple(column.name for column in _SUMMARY_COLUMNS)


# The message path locks a referral and its summary and reads both in one round trip. Both rows
# are locked, not just the referral: PostgreSQL re-reads only locked rows after waiting for a
# lock, so an unlocked summary could be the one from before the writer it waited for.
# FOR NO KEY UPDATE: link rows of other writers may still reference the referral (their foreign
# key check takes FOR KEY SHARE), so a writer relinking the person never waits on this lock.
def _locked_with_summary(*conditions: Any) -> Select[*tuple[Any, ...]]:
    return _with_summary(*conditions).with_for_update(
        of=(Referral, ReferralLifecycle), key_share=True
    )


def _with_summary(*conditions: Any) -> Select[*tuple[Any, ...]]:
    return (
        select(*FOR_UPDATE_COLUMNS, *_SUMMARY_COLUMNS)
        .join(ReferralLifecycle, ReferralLifecycle.referral_id == Referral.id)
        .where(*conditions)
    )


def _row_version(table: Any) -> Any:
    """The version of a row PostgreSQL gives it (its `xmin`, the transaction that wrote it) as
    text: any write of the row changes it."""
    return cast(literal_column(f"{table.__tablename__}.xmin"), Text)


_REFERRAL_AND_SUMMARY = DriverStatement(_locked_with_summary(Referral.id == bindparam("key")))
# By identifier: (system, value) is the key of referral_identifier, so one referral at most.
# Its parameters are named `owner_system` and `owner_value`.
_BY_IDENTIFIER = (
    Referral.id == ReferralIdentifier.referral_id,
    ReferralIdentifier.identifier_system == bindparam("owner_system"),
    ReferralIdentifier.identifier_value == bindparam("owner_value"),
)
OWNER_AND_SUMMARY_LOCKED = _locked_with_summary(*_BY_IDENTIFIER)
# The same read without the locks, then the versions of the two rows as read (`SUMMARY_UNMOVED`).
OWNER_AND_SUMMARY_AS_READ = _with_summary(*_BY_IDENTIFIER).add_columns(
    _row_version(Referral).label("referral_row_version"),
    _row_version(ReferralLifecycle).label("summary_row_version"),
)
# The referral `guard_id` and its summary, locked, if their rows are still the versions
# `guard_referral_version` and `guard_summary_version` (read by `OWNER_AND_SUMMARY_AS_READ`): one
# row, else none. A guard of writes worked out from them (`execute_writes_guarded`).
SUMMARY_UNMOVED = (
    select(Referral.id)
    .join(ReferralLifecycle, ReferralLifecycle.referral_id == Referral.id)
    .where(
        Referral.id == bindparam("guard_id"),
        _row_version(Referral) == bindparam("guard_referral_version"),
        _row_version(ReferralLifecycle) == bindparam("guard_summary_version"),
    )
    .with_for_update(of=(Referral, ReferralLifecycle), key_share=True)
)
_OWNER_AND_SUMMARY = DriverStatement(OWNER_AND_SUMMARY_LOCKED)
_INSERT_SUMMARY = insert(ReferralLifecycle)
_UPDATE_SUMMARY = update(ReferralLifecycle).where(ReferralLifecycle.referral_id == bindparam("key"))


@functools.cache
def _saving(table: Any, columns: tuple[str, ...], *, replace: bool) -> DriverStatement:
    """The insert of a resource's first version with `columns`, or (`replace`) the update of
    the held version (`held_id`) to them: built once for each table and set of columns."""
    values = {name: bindparam(name, type_=table.__table__.c[name].type) for name in columns}
    if replace:
        return DriverStatement(update(table).where(table.id == bindparam("held_id")).values(values))
    return DriverStatement(insert(table).values(values))


def held_version_of(table: Any, referral_id: Any, *, locked: bool) -> Any:
    """The version held of the resource of `table` with the sender id `held_source_id` in the
    referral `referral_id` (a column of the query it joins: `MessageRepository.seen_and_owner`),
    as `HeldVersion`'s columns; `locked`, its row locked too. A statement that waits for its
    referral's lock reads the rows it does not lock as they stood before the wait: the version
    the writer it waited for replaced would be answered, and a newer one overwritten by an older.
    A locked row is read again after the wait."""
    held = select(table.id, table.version, table.as_of, table.content_hash).where(
        table.referral_id == referral_id, table.source_id == bindparam("held_source_id")
    )
    return held.with_for_update(of=table, key_share=True) if locked else held


# A first version written with a message's last writes (`first_version_write`): its values are
# named with this prefix, apart from the other writes'.
_FIRST = "first_"


@functools.cache
def _first_version(table: Any, columns: tuple[str, ...]) -> Any:
    return insert(table).values(
        {name: bindparam(_FIRST + name, type_=table.__table__.c[name].type) for name in columns}
    )


def first_version_write(table: Any, row: dict[str, Any]) -> Write:
    """The insert of a resource's first version, `row`, as one of a message's last writes
    (`execute_writes`); a version held already fails it with IntegrityError."""
    return Write(_first_version(table, tuple(row)), {_FIRST + k: v for k, v in row.items()})


# The contact columns of the summary's activity, which a new contact may change.
CONTACT_ACTIVITY = ("contact_count", "dna_count", "first_contact_at")
_CONTACT_ACTIVITY = (
    update(ReferralLifecycle)
    .where(ReferralLifecycle.referral_id == bindparam("activity_key"))
    .values(
        {
            name: bindparam(f"activity_{name}", type_=ReferralLifecycle.__table__.c[name].type)
            for name in CONTACT_ACTIVITY
        }
    )
)


def contact_activity_write(referral_id: str, activity: dict[str, Any]) -> Write:
    """The update of the summary's contact activity (`CONTACT_ACTIVITY`) to `activity`, as one
    of a message's last writes (`execute_writes`)."""
    values = {f"activity_{name}": activity[name] for name in CONTACT_ACTIVITY}
    return Write(_CONTACT_ACTIVITY, {"activity_key": referral_id, **values})


@functools.cache
def _inserting_unless_held(
    table: Any, columns: tuple[str, ...], *, refresh_activity: bool
) -> DriverStatement:
    """One statement: the version held of a sender resource (`referral_id`, `source_id`) and,
    when none is, the insert of its first version with `columns`; with `refresh_activity` (a
    contact), the summary's activity derived again counting the contact inserted, and saved.
    Answers one row: the version held (or NULLs), then the new activity (or NULLs: unchanged,
    or nothing inserted). Built once for each table and set of columns."""
    values = {name: bindparam(name, type_=table.__table__.c[name].type) for name in columns}
    held = (
        select(table.id, table.version, table.as_of, table.content_hash)
        .where(table.referral_id == values["referral_id"], table.source_id == values["source_id"])
        .cte("held")
    )
    # The referral's lock orders its writers, so no conflict arises but with the version held.
    kept = (
        postgresql.insert(table)
        .values(values)
        .on_conflict_do_nothing(index_elements=["referral_id", "source_id"])
    )
    answer: list[Any] = [held.c.id, held.c.version, held.c.as_of, held.c.content_hash]
    one = select(literal_column("1").label("one")).subquery("one")
    joined = one.outerjoin(held, true())
    if not refresh_activity:
        return DriverStatement(select(*answer).select_from(joined).add_cte(kept.cte("inserted")))
    inserted = kept.returning(*_CONTACTED).cte("inserted")
    contacts = union_all(
        select(*(Contact.__table__.c[c.name] for c in _CONTACTED)).where(
            Contact.referral_id == bindparam("key")
        ),
        select(*inserted.c),
    ).subquery("contact")
    refreshed = _activity_refreshed(contacts, exists(select(inserted.c.referral_id))).cte(
        "refreshed"
    )
    return DriverStatement(
        select(*answer, *refreshed.c).select_from(joined.outerjoin(refreshed, true()))
    )


# What the activity reads of a contact.
_CONTACTED = (Contact.referral_id, Contact.status, Contact.attendance_outcome, Contact.contact_at)


@dataclass(frozen=True, slots=True)
class FirstVersion:
    """What `insert_unless_held` found and did: the version held (None: the new one was
    inserted), and with `refresh_activity` the activity's new values (None: unchanged)."""

    held: HeldVersion | None
    activity: dict[str, Any] | None = None


class LifecycleRepository(Repository):
    async def insert_unless_held(
        self, table: Any, row: dict[str, Any], *, refresh_activity: bool
    ) -> FirstVersion:
        """Insert `row` as the first version of its sender resource unless a version is held
        (then nothing is written and the version held is answered). With `refresh_activity`
        (a contact), once it is inserted the summary's activity is derived again and saved,
        as `refresh_activity` does. One round trip on PostgreSQL."""
        if dialect_of(self.session) != "postgresql":
            held = await self.held_versions(table, row["referral_id"], [row["source_id"]])
            if held:
                return FirstVersion(held[row["source_id"]])
            await self.save(table, row, None)
            if not refresh_activity:
                return FirstVersion(None)
            return FirstVersion(None, await self.refresh_activity(row["referral_id"]))
        statement = _inserting_unless_held(table, tuple(row), refresh_activity=refresh_activity)
        [answer] = await statement.fetch(self.session, {**row, "key": row["referral_id"]})
        if answer[0] is not None:
            return FirstVersion(HeldVersion(*answer[:4]))
        activity = answer[4:]
        if not refresh_activity or activity[0] is None:
            return FirstVersion(None)
        return FirstVersion(None, dict(zip(_ACTIVITY_NAMES, activity, strict=True)))

    async def held_versions(
        self, table: Any, referral_id: str, source_ids: Sequence[str]
    ) -> dict[str, HeldVersion]:
        if not source_ids:
            return {}
        rows: Any
        if len(source_ids) == 1:
            one = {"referral_id": referral_id, "source_id": source_ids[0]}
            rows = await _HELD_ONE[table].fetch(self.session, one)
        else:
            many = {"referral_id": referral_id, "source_ids": list(source_ids)}
            rows = await execute_core(self.session, _HELD[table], many)
        return {row[0]: HeldVersion(*row[1:]) for row in rows}

    async def save(self, table: Any, row: dict[str, Any], held: HeldVersion | None) -> None:
        """Insert a resource's first version, or replace the held one."""
        if held is None:
            await _saving(table, tuple(row), replace=False).fetch(self.session, row)
        else:
            values = {k: v for k, v in row.items() if k not in ("id", "referral_id", "source_id")}
            statement = _saving(table, tuple(values), replace=True)
            await statement.fetch(self.session, {**values, "held_id": held.id})

    async def replace_support(
        self, task_id: str, rows: list[dict[str, Any]], *, replacing: bool
    ) -> None:
        """The support offered of a Task (`_replace_parts`)."""
        await self._replace_parts(
            _DELETE_SUPPORT, {"task_id": task_id}, SupportOffered, rows, replacing
        )

    async def replace_workers(
        self, contact_id: str, rows: list[dict[str, Any]], *, replacing: bool
    ) -> None:
        """The workers of a contact (`_replace_parts`)."""
        await self._replace_parts(
            _DELETE_WORKERS, {"contact_id": contact_id}, ContactWorker, rows, replacing
        )

    async def replace_scores(
        self, assessment_id: str, rows: list[dict[str, Any]], *, replacing: bool
    ) -> None:
        """The item scores of an assessment (`_replace_parts`)."""
        await self._replace_parts(
            _DELETE_SCORES, {"assessment_id": assessment_id}, AssessmentScore, rows, replacing
        )

    async def _replace_parts(
        self,
        delete_held: Any,
        held: dict[str, str],
        model: Any,
        rows: list[dict[str, Any]],
        replacing: bool,
    ) -> None:
        """The rows a version carries: `rows` of `model` replace those of the version held
        (`delete_held` with `held`), if `replacing` (a first version has none to delete)."""
        if replacing:
            await execute_core(self.session, delete_held, held)
        if rows:
            await execute_core(self.session, insert(model), rows)

    async def task_states(self, referral_id: str) -> list[TaskState]:
        rows = await execute_core(self.session, _TASK_STATES, {"referral_id": referral_id})
        return [TaskState(*row) for row in rows]

    async def activity(self, referral_id: str) -> Activity:
        """One round trip: contact, DNA, support and assessment counts, first attended contact."""
        row = (await execute_core(self.session, _ACTIVITY, {"referral_id": referral_id})).one()
        return Activity(
            contact_count=int(row[0]),
            dna_count=int(row[1]),
            first_contact_at=aware_utc(row[2]),
            support_offered_count=int(row[3]),
            onward_referral_count=int(row[4]),
            assessment_count=int(row[5]),
        )

    async def refresh_activity(self, referral_id: str) -> dict[str, Any] | None:
        """Derive the activity columns of a referral's summary again and save them, in one
        round trip; the new values, or None when they were unchanged (nothing is written)."""
        rows = await _REFRESH_ACTIVITY.fetch(self.session, {"key": referral_id})
        return dict(zip(_ACTIVITY_NAMES, rows[0], strict=True)) if rows else None

    async def summary(self, referral_id: str) -> dict[str, Any] | None:
        row = (await execute_core(self.session, _SUMMARY, {"key": referral_id})).first()
        return dict(row._mapping) if row else None

    async def referral_and_summary_for_update(
        self, referral_id: str
    ) -> tuple[ReferralForUpdate, dict[str, Any]] | None:
        """The referral and its lifecycle summary, both locked as `ReferralRepository.for_update`
        locks a referral; None if either is missing (no summary is saved before a message)."""
        rows = await _REFERRAL_AND_SUMMARY.fetch(self.session, {"key": referral_id})
        return with_summary(rows[0]) if rows else None

    async def owner_and_summary_for_update(
        self, system: str, value: str
    ) -> tuple[ReferralForUpdate, dict[str, Any]] | None:
        """The referral owning the identifier `system|value` and its summary, both locked; None
        if there is no such referral or it has no summary yet."""
        rows = await _OWNER_AND_SUMMARY.fetch(
            self.session, {"owner_system": system, "owner_value": value}
        )
        return with_summary(rows[0]) if rows else None

    async def save_summary(self, values: dict[str, Any], exists: bool) -> None:
        if exists:
            changes = {k: v for k, v in values.items() if k != "referral_id"}
            await execute_core(
                self.session, _UPDATE_SUMMARY, {**changes, "key": values["referral_id"]}
            )
        else:
            await execute_core(self.session, _INSERT_SUMMARY, values)

    async def get_resource(
        self, table: Any, resource_id: str, reach: Reach
    ) -> StoredResource | None:
        """A Task, contact or assessment, if its referral is within `reach`."""
        row = (
            await self.session.execute(
                select(table.id, table.version, table.last_updated_at, table.resource).where(
                    table.id == resource_id, *reach.of_referrals(table.referral_id)
                )
            )
        ).first()
        return StoredResource(row[0], row[1], row[2], row[3]) if row else None

    async def search(
        self,
        table: Any,
        referral_ids: list[list[str]],
        workers: list[list[Token]],
        ids: list[list[str]],
        last_updated: list[DateRange],
        order_column: str,
        count: int,
        offset: int,
        with_total: bool,
        reach: Reach,
    ) -> tuple[int | None, list[tuple[str, str]]]:
        if table is Assessment:
            table = _observations()
        conditions = [table.referral_id.in_(values) for values in referral_ids]
        conditions += [or_(*(_worker_is(table, token) for token in tokens)) for tokens in workers]
        conditions += [table.id.in_(values) for values in ids]
        conditions += [date_condition(table.last_updated_at, r) for r in last_updated]
        conditions.extend(reach.of_referrals(table.referral_id))
        statement = (
            select(table.id, table.resource)
            .where(*conditions)
            .order_by(getattr(table, order_column), table.id)
            .limit(count)
            .offset(offset)
        )
        rows = [(row[0], row[1]) for row in await self.session.execute(statement)]
        total = None
        if with_total:
            if offset == 0 and len(rows) < count:
                total = len(rows)
            else:
                total = (
                    await self.session.execute(
                        select(func.count()).select_from(table).where(*conditions)
                    )
                ).scalar_one()
        return total, rows


def _observations() -> Any:
    """Wellbeing assessments and service-use counts, searched as one kind of Observation: the
    counts under the assessments' column names, dated by the first day they count."""
    counts = {
        "id": ServiceUse.id,
        "referral_id": ServiceUse.referral_id,
        "source_id": ServiceUse.source_id,
        "status": ServiceUse.status,
        "instrument": ServiceUse.measure,
        "timepoint": ServiceUse.period,
        "assessed_at": ServiceUse.period_start_on,
        "total_score": ServiceUse.count,
        "as_of": ServiceUse.as_of,
        "content_hash": ServiceUse.content_hash,
        "version": ServiceUse.version,
        "last_updated_at": ServiceUse.last_updated_at,
        "resource": ServiceUse.resource,
    }
    names = [column.name for column in Assessment.__table__.c]
    both = union_all(
        select(*(Assessment.__table__.c[name] for name in names)),
        select(*(counts[name].label(name) for name in names)),
    ).subquery("observation")
    return aliased(Assessment, both, adapt_on_names=True)


def _worker_is(table: Any, token: Token) -> Any:
    """The Task held by, or the contact taken part in by, the worker `token` names."""
    if table is ReferralTask:
        system, value = ReferralTask.owner_system, ReferralTask.owner_value
        named = value == token.code
        return named if token.system is None else and_(named, system == token.system)
    worker = [ContactWorker.contact_id == Contact.id, ContactWorker.worker_value == token.code]
    if token.system is not None:
        worker.append(ContactWorker.worker_system == token.system)
    return exists().where(*worker)


def with_summary(row: Sequence[Any]) -> tuple[ReferralForUpdate, dict[str, Any]]:
    """The referral and its summary from a row of `OWNER_AND_SUMMARY_LOCKED`'s columns."""
    values = row[len(FOR_UPDATE_COLUMNS) :]
    return referral_for_update(row), dict(zip(_SUMMARY_NAMES, values, strict=True))
