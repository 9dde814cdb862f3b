"""All SQL about the referral hand-off outbox.

Claiming, leasing and recording attempts are the statements every outbox runs
(`signpost_platform.outbox.table`: `SELECT ... FOR UPDATE SKIP LOCKED`, then a lease); the
status checks of delivered referrals are claimed the same way.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, or_, select, update

from screening_api.access import EVERY_ORGANISATION, Reach
from screening_api.handoff.models import ReferralHandoff
from signpost_platform.db import table_of
from signpost_platform.outbox import table as outbox_table

PENDING = "pending"
# A delivered row, as the statements every outbox runs write it.
SENT = outbox_table.SENT
FAILING = "failing"
STATES = (PENDING, SENT, FAILING)
OUTBOX = outbox_table.OutboxTable(ReferralHandoff, ReferralHandoff.response_id, (PENDING, FAILING))


@dataclass(frozen=True, slots=True)
class Handoff(outbox_table.OutboxEntry):
    response_id: str
    identifier_system: str
    identifier_value: str
    request: str
    referral_id: str | None
    referral_status: str | None
    referral_accepted: bool
    referral_closed: bool


class HandoffRepository(outbox_table.OutboxRepository[Handoff]):
    outbox = OUTBOX
    entry = Handoff

    async def add(
        self, response_id: str, identifier: tuple[str, str], request: str, now: datetime
    ) -> None:
        """Record the intent to raise a referral (in the caller's transaction)."""
        await self.session.execute(
            insert(table_of(ReferralHandoff)).values(
                response_id=response_id,
                state=PENDING,
                attempts=0,
                next_attempt_at=now,
                identifier_system=identifier[0],
                identifier_value=identifier[1],
                request=request,
                referral_accepted=False,
                referral_closed=False,
                created_at=now,
            )
        )

    async def get(self, response_id: str, reach: Reach = EVERY_ORGANISATION) -> Handoff | None:
        statement = select(*self.columns).where(
            ReferralHandoff.response_id == response_id,
            *reach.of_visible_responses(ReferralHandoff.response_id),
        )
        row = (await self.session.execute(statement)).first()
        return self.entry(*row) if row else None

    async def by_state(
        self, states: list[str], limit: int, offset: int, reach: Reach
    ) -> tuple[int, list[Handoff]]:
        conditions = [
            ReferralHandoff.state.in_(states),
            *reach.of_visible_responses(ReferralHandoff.response_id),
        ]
        return await self.listed(conditions, limit, offset)

    async def mark_sent(
        self, response_id: str, referral_id: str, referral_status: str | None, now: datetime
    ) -> None:
        await OUTBOX.mark_sent(
            self.session,
            response_id,
            now,
            referral_id=referral_id,
            referral_status=referral_status,
            status_checked_at=now,
        )

    async def mark_failed(self, response_id: str, error: str, retry_at: datetime) -> None:
        await OUTBOX.mark_failed(self.session, response_id, FAILING, error, retry_at)

    async def claim_status_checks(
        self, now: datetime, stale_before: datetime, limit: int
    ) -> list[Handoff]:
        """Sent referrals not yet closed whose status was last read before `stale_before`."""
        unchecked = (
            select(*self.columns)
            .where(
                ReferralHandoff.state == SENT,
                ReferralHandoff.referral_closed.is_(False),
                or_(
                    ReferralHandoff.status_checked_at.is_(None),
                    ReferralHandoff.status_checked_at < stale_before,
                ),
            )
            .order_by(ReferralHandoff.status_checked_at)
            .limit(limit)
        )
        rows = await OUTBOX.claim(self.session, unchecked, {"status_checked_at": now})
        return [self.entry(*row) for row in rows]

    async def record_status(
        self, response_id: str, status: str, accepted: bool, closed: bool
    ) -> None:
        values: dict[str, object] = {"referral_status": status, "referral_closed": closed}
        if accepted:  # once accepted, a referral stays counted as accepted
            values["referral_accepted"] = True
        await self.session.execute(
            update(ReferralHandoff).where(ReferralHandoff.response_id == response_id).values(values)
        )
