"""All SQL about processed and held messages."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, delete, insert, literal_column, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from referral_api.lifecycle.repository import (
    OWNER_AND_SUMMARY_AS_READ,
    OWNER_AND_SUMMARY_LOCKED,
    RESOURCE_TABLES,
    SUMMARY_UNMOVED,
    HeldVersion,
    Looked,
    held_version_of,
    with_summary,
)
from referral_api.messages.models import HeldMessage, ProcessedMessage
from referral_api.referrals.models import Referral
from referral_api.referrals.repository import ReferralForUpdate, ReferralRepository
from signpost_platform.db import (
    DriverStatement,
    Guard,
    Repository,
    Write,
    execute_writes,
    execute_writes_guarded,
)


@dataclass(frozen=True, slots=True)
class SeenMessage:
    payload_hash: str
    response_status: int
    response: str
    # The organisations of the referral the message applied to (None: held or rejected).
    requester_ods: str | None = None
    receiver_ods: str | None = None


@dataclass(frozen=True, slots=True)
class Held:
    bundle_id: str
    body: str
    derived: str | None


@dataclass(frozen=True, slots=True)
class Expiring:
    """A held message past its retention, with what identifies it to its sender."""

    bundle_id: str
    identifier_system: str
    identifier_value: str
    source_system: str
    received_at: datetime
    body: str


# Built once: constructing a statement and its cache key costs more than running it.
_SEEN_SELECT = (
    select(
        ProcessedMessage.payload_hash,
        ProcessedMessage.response_status,
        ProcessedMessage.response,
        Referral.requester_ods,
        Referral.receiver_ods,
    )
    .outerjoin(Referral, Referral.id == ProcessedMessage.referral_id)
    .where(ProcessedMessage.bundle_id == bindparam("bundle_id"))
)
_SEEN = DriverStatement(_SEEN_SELECT)
_SEEN_WIDTH = len(_SEEN_SELECT.selected_columns)


def _seen_and_owner(held_table: Any = None, *, locked: bool = True) -> DriverStatement:
    """One row: the message seen under `bundle_id` (or NULLs), then the referral owning the
    identifier `owner_system|owner_value` with its summary, both locked (or NULLs; not `locked`:
    read without the locks, then the versions of their rows as read), then, with `held_table`,
    the version held in that referral of its resource with the sender id `held_source_id` (or
    NULLs)."""
    seen = _SEEN_SELECT.subquery("seen")
    owner = (OWNER_AND_SUMMARY_LOCKED if locked else OWNER_AND_SUMMARY_AS_READ).cte("owner")
    one = select(literal_column("1").label("one")).subquery("one")
    joined = one.outerjoin(seen, true()).outerjoin(owner, true())
    columns = [*seen.c, *owner.c]
    if held_table is not None:
        held = held_version_of(held_table, owner.c.id, locked=locked).subquery("held")
        joined = joined.outerjoin(held, true())
        columns += held.c
    return DriverStatement(select(*columns).select_from(joined))


# By whether the referral is locked, then by the table of the message's one lifecycle resource
# whose version held is read too (None: none is).
_SEEN_AND_OWNER = {
    locked: {
        table: _seen_and_owner(table, locked=locked) for table in (None, *RESOURCE_TABLES.values())
    }
    for locked in (True, False)
}
_OWNER_WIDTH = len(OWNER_AND_SUMMARY_LOCKED.selected_columns)


@dataclass(frozen=True, slots=True)
class Found:
    """What `MessageRepository.seen_and_owner` found."""

    seen: SeenMessage | None
    # The referral owning the identifier, and its summary; None without a summary.
    owner: tuple[ReferralForUpdate, dict[str, Any]] | None = None
    # The version the referral holds of the message's one lifecycle resource, when asked.
    looked: Looked | None = None
    # Read without the locks: the guard of the writes worked out from the referral and summary
    # as read (`SUMMARY_UNMOVED`, `execute_writes_guarded`), without its referral id.
    unmoved: dict[str, str] | None = None


def _with_values(statement: Any, table: Any, prefix: str) -> Any:
    """`statement` writing every column of `table` but its generated key, each from a parameter
    named `prefix` + the column's name (so it can run with others: `execute_writes`)."""
    return statement.values(
        {
            column.name: bindparam(prefix + column.name, type_=column.type)
            for column in table.__table__.columns
            if not (column.primary_key and column.autoincrement is True)
        }
    )


_RECORD = _with_values(insert(ProcessedMessage), ProcessedMessage, "message_")
_HOLD = _with_values(insert(HeldMessage), HeldMessage, "held_")
_RELEASE = (
    update(ProcessedMessage)
    .where(ProcessedMessage.bundle_id == bindparam("released_bundle_id"))
    .values(
        outcome=bindparam("released_outcome"),
        referral_id=bindparam("released_referral_id"),
        response_status=bindparam("released_status"),
        response=bindparam("released_response"),
    )
)
_UNHOLD = delete(HeldMessage).where(HeldMessage.bundle_id == bindparam("unheld_bundle_id"))


class MessageRepository(Repository):
    async def seen(self, bundle_id: str) -> SeenMessage | None:
        rows = await _SEEN.fetch(self.session, {"bundle_id": bundle_id})
        return SeenMessage(*rows[0]) if rows else None

    async def seen_and_owner(
        self,
        bundle_id: str,
        identifier: tuple[str, str],
        resource: tuple[str, str] | None = None,
        *,
        locked: bool = True,
    ) -> Found:
        """In one round trip: the message seen under `bundle_id`, and the referral owning
        `identifier` with its summary, both locked in the session's transaction (as
        `LifecycleRepository.owner_and_summary_for_update` finds and locks them); each None
        when there is none. With `resource` (the resource type and sender id of the message's
        one lifecycle resource), also the version of it that referral holds.

        Not `locked`: read outside the session's transaction, which has not begun, on a
        connection of its own (`DriverStatement.fetch_apart`), without the locks; then `Found`
        says how to guard writes worked out from what was read."""
        system, value = identifier
        params = {"bundle_id": bundle_id, "owner_system": system, "owner_value": value}
        table = None
        if resource is not None:
            table = RESOURCE_TABLES[resource[0]]
            params["held_source_id"] = resource[1]
        statement = _SEEN_AND_OWNER[locked][table]
        if locked:
            [row] = await statement.fetch(self.session, params)
        else:
            [row] = await statement.fetch_apart(self.session, params)
        seen = SeenMessage(*row[:_SEEN_WIDTH]) if row[0] is not None else None
        owner = row[_SEEN_WIDTH : _SEEN_WIDTH + _OWNER_WIDTH]
        if owner[0] is None:
            return Found(seen)
        rest = row[_SEEN_WIDTH + _OWNER_WIDTH :]
        unmoved = None
        if not locked:
            referral_version, summary_version, *rest = rest
            unmoved = {
                "guard_referral_version": referral_version,
                "guard_summary_version": summary_version,
            }
        looked = None
        if resource is not None:
            looked = Looked(HeldVersion(*rest) if rest[0] is not None else None)
        return Found(seen, with_summary(owner), looked, unmoved)

    async def serialise(self, identifiers: list[tuple[str, str]]) -> None:
        """Let one transaction at a time handle messages about these sender identifiers
        (`ReferralRepository.lock_identifiers`)."""
        await ReferralRepository(self.session).lock_identifiers(identifiers)

    async def record(self, values: dict[str, Any], pending: Sequence[Write] = ()) -> None:
        """Insert a processed message (`values`: its columns), with the writes `pending` (the
        message's last ones); IntegrityError if a concurrent request recorded it."""
        record = Write(_RECORD, {f"message_{name}": value for name, value in values.items()})
        # First: a held copy names the message (a foreign key SQLite checks at each statement).
        await _write_all(self.session, [record, *pending])

    async def record_guarded(
        self,
        values: dict[str, Any],
        pending: Sequence[Write],
        referral_id: str,
        unmoved: dict[str, str],
    ) -> None:
        """`record`, as a transaction of its own (the session has not begun), guarded: nothing
        is written, and `RowsMoved` raised, if the referral or its summary changed since they
        were read (`Found.unmoved`) or a write found no row to write; IntegrityError if a
        concurrent request recorded the message or a key is taken."""
        record = Write(_RECORD, {f"message_{name}": value for name, value in values.items()})
        guard = Guard(SUMMARY_UNMOVED, {"guard_id": referral_id, **unmoved})
        await execute_writes_guarded(self.session, guard, [record, *pending])

    @staticmethod
    def hold(
        bundle_id: str,
        identifier: tuple[str, str],
        sent_at: datetime,
        body: str,
        derived: str,
    ) -> Write:
        """The write keeping a message until its referral arrives (`record` runs it)."""
        return Write(
            _HOLD,
            {
                "held_bundle_id": bundle_id,
                "held_identifier_system": identifier[0],
                "held_identifier_value": identifier[1],
                "held_sent_at": sent_at,
                "held_body": body,
                "held_derived": derived,
            },
        )

    async def held_for(self, identifiers: list[tuple[str, str]]) -> list[Held]:
        """Messages held for any of `identifiers`, oldest first."""
        if not identifiers:
            return []
        rows = await self.session.execute(
            select(HeldMessage.bundle_id, HeldMessage.body, HeldMessage.derived)
            .where(
                or_(
                    *(
                        and_(HeldMessage.identifier_system == s, HeldMessage.identifier_value == v)
                        for s, v in identifiers
                    )
                )
            )
            .order_by(HeldMessage.sent_at, HeldMessage.bundle_id)
            # Locked so an expiry running now skips them (`held_before`).
            .with_for_update()
        )
        return [Held(*row) for row in rows]

    async def release(
        self,
        bundle_id: str,
        *,
        outcome: str,
        referral_id: str | None,
        status: int,
        response: str,
        pending: Sequence[Write] = (),
    ) -> None:
        """A held message was applied (or turned out invalid): record its final response, with
        the writes `pending` of its application."""
        unhold = Write(_UNHOLD, {"unheld_bundle_id": bundle_id})
        release = Write(
            _RELEASE,
            {
                "released_bundle_id": bundle_id,
                "released_outcome": outcome,
                "released_referral_id": referral_id,
                "released_status": status,
                "released_response": response,
            },
        )
        await _write_all(self.session, [*pending, unhold, release])

    async def held_before(self, received_before: datetime) -> list[Expiring]:
        """Messages held since before `received_before`, oldest first, locked against a
        concurrent release (SKIP LOCKED: one being released now is left to its release)."""
        rows = await self.session.execute(
            select(
                HeldMessage.bundle_id,
                HeldMessage.identifier_system,
                HeldMessage.identifier_value,
                ProcessedMessage.source_system,
                ProcessedMessage.received_at,
                HeldMessage.body,
            )
            .join(ProcessedMessage, ProcessedMessage.bundle_id == HeldMessage.bundle_id)
            .where(ProcessedMessage.received_at < received_before)
            .order_by(ProcessedMessage.received_at, HeldMessage.bundle_id)
            .with_for_update(of=HeldMessage, skip_locked=True)
        )
        return [Expiring(*row) for row in rows]


async def _write_all(session: AsyncSession, writes: list[Write]) -> None:
    """Run `writes`, each of which writes one row (a referral's rendering among them is guarded
    by its version, which cannot have moved while the message holds the referral locked)."""
    if any(count != 1 for count in await execute_writes(session, writes)):
        raise AssertionError("a message's write found no row to write: a referral moved on")
