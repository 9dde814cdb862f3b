"""The audit trail: who read or changed which record, when, from which client, in which request.

Each service keeps an `audit_event` table in its own database (`audit_table(Base.metadata)`),
written in the same transaction as the change it records (or straight away for reads), and
served to callers with the `audit:read` scope at `GET /audit`. Records carry identifiers only,
never names, NHS numbers or answers.

A read's or search's event on PostgreSQL is committed before the answer is sent, but without
waiting for its WAL flush (`synchronous_commit = off` for that statement's transaction only): a
database server crash may lose the read events of its last fraction of a second; events of
writes commit with the write, durably. The bound and the reasons are in docs/security.md.

The trail follows the organisation rule (`signpost_platform.access`): a caller whose token names
an organisation sees only the events its own organisation's callers made (the records they read,
changed and the ids their searches returned, all within that organisation's reach already);
`audit:all-organisations` sees every event; a token with neither is 403.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    insert,
    select,
    text,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import Insert
from sqlalchemy.sql.selectable import CTE, FromClause

from signpost_platform.access import OrganisationReach
from signpost_platform.auth import Caller, require_scope
from signpost_platform.db import (
    AnySelect,
    ReadSessionDep,
    UtcDateTime,
    Write,
    commits_each_statement,
    execute_core,
)
from signpost_platform.errors import BadRequest
from signpost_platform.logging import correlation_id
from signpost_platform.routing import CheckedRoute
from signpost_schemas.dates import as_utc

ACTIONS = ("create", "read", "update", "search", "delete", "process")


def audit_table(metadata: MetaData) -> Table:
    """The `audit_event` table, added to a service's own metadata."""
    return Table(
        "audit_event",
        metadata,
        Column(
            "id",
            BigInteger().with_variant(Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        Column("occurred_at", UtcDateTime(), nullable=False, index=True),
        Column("subject", String(255), nullable=False),
        Column("client_id", String(255)),
        Column("organisation_ods", String(10)),
        Column("action", String(16), nullable=False),
        Column("resource_type", String(64), nullable=False),
        Column("resource_id", String(64)),
        # For searches: the ids returned, space-separated.
        Column("detail", Text()),
        Column("correlation_id", String(128)),
        Index("ix_audit_event_resource_type_resource_id", "resource_type", "resource_id"),
    )


class AuditReach(OrganisationReach):
    """The audit events a caller may read: those its own organisation's callers made."""

    __slots__ = ()
    all_organisations_scope = "audit:all-organisations"


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One event: who (`caller`) did what (`action`) to which record, in the current request."""

    caller: Caller
    action: str
    resource_type: str
    resource_id: str | None = None
    # For searches: the ids returned.
    returned_ids: Sequence[str] = ()

    def values(self) -> dict[str, Any]:
        """The event's row, stamped now and with the request's correlation id."""
        return {
            "occurred_at": datetime.now(UTC),
            "subject": self.caller.subject,
            "client_id": self.caller.client_id,
            "organisation_ods": self.caller.organisation_ods,
            "action": self.action,
            "resource_type": self.resource_type,
            "resource_id": self.resource_id,
            "detail": " ".join(self.returned_ids) or None,
            "correlation_id": correlation_id.get(),
        }


# Turns `synchronous_commit` off for the statement's own transaction (`_without_flush_wait`).
_RELAXED = select(text("set_config('synchronous_commit', 'off', true)")).cte("relaxed")
# The bind parameters of the event in a statement that also reads or writes (`AuditTrail.reading`,
# `alongside`, `writing`) are prefixed, so they never meet the statement's own.
_EVENT_PREFIX = "audit_"


class AuditTrail:
    """Writes and reads one service's audit events."""

    def __init__(self, table: Table) -> None:
        self.table = table
        # Built once: every read and change writes an event.
        self._insert = insert(table)
        self._insert_without_flush_wait = _without_flush_wait(table)
        self._insert_with_others = insert(table).values(
            {
                c.name: bindparam(_EVENT_PREFIX + c.name, type_=c.type)
                for c in table.columns
                if c.name != "id"
            }
        )

    async def record(
        self,
        session: AsyncSession,
        caller: Caller,
        action: str,
        resource_type: str,
        resource_id: str | None = None,
        *,
        returned_ids: Sequence[str] = (),
    ) -> None:
        """Write one event in `session` (`write`)."""
        await self.write(
            session, AuditEvent(caller, action, resource_type, resource_id, returned_ids)
        )

    async def write(self, session: AsyncSession, event: AuditEvent) -> None:
        """Write `event` in `session`: with the change it records in a write session; on its
        own, committed without waiting for the WAL flush, in a read session on PostgreSQL."""
        statement = (
            self._insert_without_flush_wait if commits_each_statement(session) else self._insert
        )
        await execute_core(session, statement, event.values())

    def with_others(self, event: AuditEvent) -> Write:
        """The insert of `event` as one of a write session's `execute_writes` (one round trip
        on PostgreSQL): it commits with the change it records, as durably."""
        return Write(self._insert_with_others, self.event_parameters(event))

    def reading(self, found: AnySelect, answer: Callable[[CTE], AnySelect] = select) -> AnySelect:
        """`found` and the insert of an event in one PostgreSQL statement, for a read session
        (`commits_each_statement`): the event is written, committed with the read without
        waiting for the WAL flush, once for each row `found` yields (a read by id: when the
        record is there); the statement answers `answer(rows of found)`, by default those rows.
        `found`'s column `id` is the record's id, which the event names (not the id asked for:
        an id too long for the event's column is simply not found, as it is without the event).
        Run it with `event_parameters(event)` added to `found`'s parameters: a read and its
        event in one round trip."""
        rows = found.cte("found")
        event = self._event(rows.join(_RELAXED, true()), resource_id=rows.c.id)
        return answer(rows).add_cte(event)

    def alongside(self, statement: AnySelect) -> AnySelect:
        """`statement` (a SELECT) and the insert of one event in one PostgreSQL statement, for a
        read session (`commits_each_statement`): the event is written whatever `statement`
        finds, committed with it without waiting for the WAL flush. Run it with
        `event_parameters(event)` added to `statement`'s parameters: a search's follow-up
        read (its links) and its event in one round trip."""
        return statement.add_cte(self._event(_RELAXED))

    def searching(self, answer: AnySelect, detail: ColumnElement[str] | None) -> AnySelect:
        """`answer` (a search's SELECT) and the insert of its event in one PostgreSQL statement,
        for a read session (`commits_each_statement`), committed without waiting for the WAL
        flush. `detail`, an expression of `answer`'s CTEs, gives the ids the search returned
        (space-separated, as `AuditEvent.values` writes them); None: the event's parameter.
        Run it with `event_parameters(event)` added to `answer`'s parameters: a page, its
        follow-up reads and its event in one round trip."""
        return answer.add_cte(self._event(_RELAXED, detail=detail))

    def writing(
        self,
        statement: AnySelect,
        resource_id: ColumnElement[str],
        rows: FromClause | None = None,
    ) -> AnySelect:
        """`statement` (a PostgreSQL write) and the insert of one event in one statement, for a
        write session: the event commits with the change it records, as durably. It names
        `resource_id` (an expression of `statement`'s parameters, such as the new record's id,
        or of `rows`). With `rows` (a CTE of `statement`, such as an insert's RETURNING), one
        event is written for each of its rows, so none when it writes nothing. Run it with
        `event_parameters(event)` added to `statement`'s parameters."""
        return statement.add_cte(self._event(rows, resource_id))

    def _event(
        self,
        source: FromClause | None,
        resource_id: ColumnElement[str] | None = None,
        *,
        detail: ColumnElement[str] | None = None,
    ) -> CTE:
        """The insert of an event, once for each row of `source` (once without one), as a CTE;
        its values bind parameters (`event_parameters`), but its `resource_id` and `detail`
        when an expression gives them."""
        columns = [column for column in self.table.columns if column.name != "id"]
        given = {"resource_id": resource_id, "detail": detail}
        expressions: list[ColumnElement[Any]] = []
        for c in columns:
            expression = given.get(c.name)
            if expression is None:
                expression = bindparam(_EVENT_PREFIX + c.name, type_=c.type)
            expressions.append(expression)
        values = select(*expressions)
        if source is not None:
            values = values.select_from(source)
        return insert(self.table).from_select([c.name for c in columns], values).cte("event")

    @staticmethod
    def event_parameters(event: AuditEvent) -> dict[str, Any]:
        """The event's bind parameters in a statement made by `reading`, `alongside` or
        `writing`."""
        return {_EVENT_PREFIX + name: value for name, value in event.values().items()}

    def router(self) -> APIRouter:
        """`GET /audit`: events newest first, filtered by record, actor, action and time."""
        router = APIRouter(route_class=CheckedRoute, tags=["audit"])
        table = self.table

        @router.get(
            "/audit",
            operation_id="listAuditEvents",
            description="Who read, searched, created or changed which record, and when, with the "
            "client, organisation and correlation id; events carry no personal data.",
            summary="Audit events: who read or changed which record (scope audit:read)",
        )
        async def list_audit_events(
            session: ReadSessionDep,
            caller: Annotated[Caller, require_scope("audit:read")],
            resource_type: str | None = None,
            resource_id: str | None = None,
            subject: str | None = None,
            action: Annotated[str | None, Query(pattern="^(" + "|".join(ACTIONS) + ")$")] = None,
            since: datetime | None = None,
            until: datetime | None = None,
            limit: Annotated[int, Query(ge=1, le=500)] = 100,
        ) -> dict[str, Any]:
            reach = AuditReach.of(caller)
            statement = (
                select(table)
                .where(*reach.matching(table.c.organisation_ods))
                .order_by(table.c.id.desc())
                .limit(limit)
            )
            filters = {
                "resource_type": resource_type,
                "resource_id": resource_id,
                "subject": subject,
                "action": action,
            }
            for name, value in filters.items():
                if value is not None:
                    statement = statement.where(table.c[name] == value)
            if since is not None:
                statement = statement.where(table.c.occurred_at >= _utc("since", since))
            if until is not None:
                statement = statement.where(table.c.occurred_at < _utc("until", until))
            rows = (await session.execute(statement)).mappings().all()
            return {"events": [_event(row) for row in rows]}

        return router


def _without_flush_wait(table: Table) -> Insert:
    """The event insert as one PostgreSQL statement that also turns `synchronous_commit` off
    for its own transaction (`set_config(..., true)` is `SET LOCAL`): in autocommit the
    statement commits at once, without waiting for the WAL to reach the disk, and the setting
    ends with it, so the connection goes back to the pool durable."""
    relaxed = select(text("set_config('synchronous_commit', 'off', true)")).cte("relaxed")
    columns = [column for column in table.columns if column.name != "id"]
    values = select(*(bindparam(c.name, type_=c.type) for c in columns)).select_from(relaxed)
    return insert(table).from_select([c.name for c in columns], values)


def _utc(name: str, moment: datetime) -> datetime:
    """`moment` in UTC (naive means UTC); 400 when that falls outside the representable years."""
    try:
        return as_utc(moment)
    except OverflowError:
        raise BadRequest(f"{name} is out of range", expression=name) from None


def _event(row: Any) -> dict[str, Any]:
    event = {key: value for key, value in row.items() if value is not None and key != "detail"}
    event["occurred_at"] = row["occurred_at"].isoformat()
    if row["detail"]:
        event["returned_ids"] = row["detail"].split(" ")
    return event
