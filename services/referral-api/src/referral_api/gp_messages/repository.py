"""All SQL about the outbox of messages back to the referrer.

Claiming, leasing and recording attempts are the statements every outbox runs
(`signpost_platform.outbox.table`: `SELECT ... FOR UPDATE SKIP LOCKED`, then a lease). A message
is added with `ON CONFLICT DO NOTHING` on its id: the same event recorded twice is one message.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from referral_api.db import conflict_insert
from referral_api.gp_messages.models import GpMessage
from referral_api.referrals.access import Reach
from signpost_platform.db import dialect_of
from signpost_platform.outbox import table as outbox_table

PENDING = "pending"
# A delivered row, as the statements every outbox runs write it.
SENT = outbox_table.SENT
FAILING = "failing"
UNDELIVERABLE = "undeliverable"
STATES = (PENDING, SENT, FAILING, UNDELIVERABLE)
UNDELIVERED = (PENDING, FAILING, UNDELIVERABLE)
OUTBOX = outbox_table.OutboxTable(GpMessage, GpMessage.id, UNDELIVERED)


@dataclass(frozen=True, slots=True)
class StoredMessage(outbox_table.OutboxEntry):
    id: str
    referral_id: str
    event: str
    event_at: datetime
    requester_ods: str
    receiver_ods: str | None
    endpoint: str | None
    message: str


class GpMessageRepository(outbox_table.OutboxRepository[StoredMessage]):
    outbox = OUTBOX
    entry = StoredMessage

    def _within(self, reach: Reach) -> list[Any]:
        return reach.matching(GpMessage.requester_ods, GpMessage.receiver_ods)

    async def add(self, values: dict[str, Any]) -> None:
        """Record a message to send (in the caller's transaction); none if it is recorded."""
        await self.session.execute(
            conflict_insert(dialect_of(self.session), GpMessage)
            .values(values)
            .on_conflict_do_nothing(index_elements=["id"])
        )

    async def get(self, message_id: str, reach: Reach) -> StoredMessage | None:
        statement = select(*self.columns).where(GpMessage.id == message_id, *self._within(reach))
        row = (await self.session.execute(statement)).first()
        return self.entry(*row) if row else None

    async def of_referral(self, referral_id: str) -> list[StoredMessage]:
        statement = (
            select(*self.columns)
            .where(GpMessage.referral_id == referral_id)
            .order_by(GpMessage.event_at, GpMessage.id)
        )
        return [self.entry(*row) for row in await self.session.execute(statement)]

    async def by_state(
        self,
        states: list[str],
        requesters: list[str],
        limit: int,
        offset: int,
        reach: Reach,
    ) -> tuple[int, list[StoredMessage]]:
        conditions = [GpMessage.state.in_(states), *self._within(reach)]
        if requesters:
            conditions.append(GpMessage.requester_ods.in_(requesters))
        return await self.listed(conditions, limit, offset)

    async def mark_sent(self, message_id: str, endpoint: str, now: datetime) -> None:
        await OUTBOX.mark_sent(self.session, message_id, now, endpoint=endpoint)

    async def mark_failed(
        self,
        message_id: str,
        state: str,
        error: str,
        endpoint: str | None,
        retry_at: datetime,
    ) -> None:
        await OUTBOX.mark_failed(
            self.session, message_id, state, error, retry_at, endpoint=endpoint
        )

    async def due_now(self, message_id: str, now: datetime) -> None:
        """Bring an undelivered message's next attempt forward to `now`."""
        await self.session.execute(
            update(GpMessage)
            .where(GpMessage.id == message_id, GpMessage.state != SENT)
            .values(next_attempt_at=now)
        )

    async def forget_sent(self, sent_before: datetime) -> int:
        """Clear the Bundles of messages delivered before `sent_before`; how many."""
        result = await self.session.execute(
            update(GpMessage)
            .where(
                GpMessage.state == SENT, GpMessage.sent_at < sent_before, GpMessage.message != ""
            )
            .values(message="")
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
