"""All SQL about processed and held messages."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from referral_api.messages.models import HeldMessage, ProcessedMessage
from referral_api.referrals.models import Referral
from referral_api.referrals.repository import ReferralRepository
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


class MessageRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def seen(self, bundle_id: str) -> SeenMessage | None:
        row = (await execute_core(self.session, _SEEN, {"bundle_id": bundle_id})).first()
        return SeenMessage(*row) if row else None

    async def serialise(self, identifiers: list[tuple[str, str]]) -> None:
        """Let one transaction at a time handle messages about these sender identifiers
        (`ReferralRepository.lock_identifiers`)."""
        await ReferralRepository(self.session).lock_identifiers(identifiers)

    async def record(self, values: dict[str, Any]) -> None:
        """Insert a processed message; IntegrityError if a concurrent request recorded it."""
        await execute_core(self.session, _RECORD, values)

    async def hold(
        self,
        bundle_id: str,
        identifier: tuple[str, str],
        sent_at: datetime,
        body: str,
        derived: str,
    ) -> None:
        await self.session.execute(
            insert(HeldMessage).values(
                bundle_id=bundle_id,
                identifier_system=identifier[0],
                identifier_value=identifier[1],
                sent_at=sent_at,
                body=body,
                derived=derived,
            )
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
