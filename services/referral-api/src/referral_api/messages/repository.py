"""All SQL about processed and held messages."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, delete, insert, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from referral_api.messages.models import HeldMessage, ProcessedMessage
from referral_api.referrals.models import Referral
from signpost_platform.db import execute_core


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


# Built once: constructing a statement and its cache key costs more than running it.
_SEEN = (
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
_RECORD = insert(ProcessedMessage)
_LOCK_IDENTIFIER = text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))")


class MessageRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def seen(self, bundle_id: str) -> SeenMessage | None:
        row = (await execute_core(self.session, _SEEN, {"bundle_id": bundle_id})).first()
        return SeenMessage(*row) if row else None

    async def serialise(self, identifiers: list[tuple[str, str]]) -> None:
        """Let one transaction at a time handle messages about these sender identifiers.

        A transaction-scoped advisory lock per identifier, taken in a fixed order (no deadlock).
        Without it, an update held just as its referral's `new` message commits would be missed
        by that `new` (the hold not yet visible to it) and stay held. SQLite needs nothing: it
        runs one write transaction at a time already.
        """
        if self.session.bind.dialect.name != "postgresql":
            return
        for system, value in sorted(set(identifiers)):
            await execute_core(self.session, _LOCK_IDENTIFIER, {"key": f"{system}|{value}"})

    async def record(self, values: dict[str, Any]) -> None:
        """Insert a processed message; IntegrityError if a concurrent request recorded it."""
        await execute_core(self.session, _RECORD, values)

    async def hold(
        self, bundle_id: str, identifier: tuple[str, str], sent_at: datetime, body: str
    ) -> None:
        await self.session.execute(
            insert(HeldMessage).values(
                bundle_id=bundle_id,
                identifier_system=identifier[0],
                identifier_value=identifier[1],
                sent_at=sent_at,
                body=body,
            )
        )

    async def held_for(self, identifiers: list[tuple[str, str]]) -> list[Held]:
        """Messages held for any of `identifiers`, oldest first."""
        if not identifiers:
            return []
        rows = await self.session.execute(
            select(HeldMessage.bundle_id, HeldMessage.body)
            .where(
                or_(
                    *(
                        and_(HeldMessage.identifier_system == s, HeldMessage.identifier_value == v)
                        for s, v in identifiers
                    )
                )
            )
            .order_by(HeldMessage.sent_at, HeldMessage.bundle_id)
        )
        return [Held(*row) for row in rows]

    async def release(
        self, bundle_id: str, *, outcome: str, referral_id: str | None, status: int, response: str
    ) -> None:
        """A held message was applied (or turned out invalid): record its final response."""
        await self.session.execute(delete(HeldMessage).where(HeldMessage.bundle_id == bundle_id))
        await self.session.execute(
            update(ProcessedMessage)
            .where(ProcessedMessage.bundle_id == bundle_id)
            .values(
                outcome=outcome,
                referral_id=referral_id,
                response_status=status,
                response=response,
            )
        )
