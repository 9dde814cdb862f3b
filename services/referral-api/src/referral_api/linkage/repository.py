"""All SQL about referral links."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, bindparam, delete, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from referral_api.linkage.models import ReferralLink
from referral_api.referrals.models import Referral
from signpost_platform.db import execute_core


@dataclass(frozen=True, slots=True)
class PersonReferral:
    id: str
    received_by_role: str
    authored_at: datetime


_REFERRALS_OF = (
    select(Referral.id, Referral.received_by_role, Referral.authored_at)
    .where(Referral.person_key == bindparam("person_key"))
    .order_by(Referral.authored_at, Referral.id)
)
_LINKS_OF_PERSON = select(
    ReferralLink.referral_id, ReferralLink.linked_referral_id, ReferralLink.link_type
).where(ReferralLink.person_key == bindparam("person_key"))
_LINKS_OF = (
    select(ReferralLink.linked_referral_id, ReferralLink.link_type)
    .where(ReferralLink.referral_id == bindparam("key"))
    .order_by(ReferralLink.link_type, ReferralLink.linked_referral_id)
)


class LinkageRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def referrals_of(self, person_key: str) -> list[PersonReferral]:
        rows = await execute_core(self.session, _REFERRALS_OF, {"person_key": person_key})
        return [PersonReferral(*row) for row in rows]

    async def links_of_person(self, person_key: str) -> set[tuple[str, str, str]]:
        rows = await execute_core(self.session, _LINKS_OF_PERSON, {"person_key": person_key})
        return {(row[0], row[1], row[2]) for row in rows}

    async def links_of(self, referral_id: str) -> list[tuple[str, str]]:
        """(linked referral id, link type) of one referral, in a stable order."""
        rows = await execute_core(self.session, _LINKS_OF, {"key": referral_id})
        return [(row[0], row[1]) for row in rows]

    async def remove(self, links: Sequence[tuple[str, str, str]]) -> None:
        if links:
            await self.session.execute(
                delete(ReferralLink).where(
                    or_(
                        *(
                            and_(
                                ReferralLink.referral_id == a, ReferralLink.linked_referral_id == b
                            )
                            for a, b, _ in links
                        )
                    )
                )
            )

    async def add(self, person_key: str, links: Sequence[tuple[str, str, str]]) -> None:
        if links:
            await self.session.execute(
                insert(ReferralLink),
                [
                    {
                        "referral_id": a,
                        "linked_referral_id": b,
                        "link_type": t,
                        "person_key": person_key,
                    }
                    for a, b, t in links
                ],
            )
