"""All SQL of service use: the referral a count is for, the count held, and writing it."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update

from referral_api.people.models import PersonIdentifier
from referral_api.referrals.access import Reach
from referral_api.referrals.models import Referral, ReferralIdentifier
from referral_api.service_use.models import ServiceUse
from signpost_platform.db import Repository


@dataclass(frozen=True, slots=True)
class CountedReferral:
    """What a count is checked against: the referral's date and the person it names."""

    id: str
    authored_at: datetime
    nhs_number: str | None
    person_key: str


@dataclass(frozen=True, slots=True)
class HeldCount:
    id: str
    version: int
    as_of: datetime
    content_hash: str


_REFERRAL = (Referral.id, Referral.authored_at, Referral.nhs_number, Referral.person_key)


class ServiceUseRepository(Repository):
    async def referral(self, referral_id: str, reach: Reach) -> CountedReferral | None:
        row = (
            await self.session.execute(
                select(*_REFERRAL).where(Referral.id == referral_id, *reach.conditions())
            )
        ).first()
        return CountedReferral(*row) if row else None

    async def referral_by_identifier(
        self, system: str | None, value: str, reach: Reach
    ) -> list[CountedReferral]:
        """The referrals with this business identifier (in any system when `system` is None)."""
        conditions = [ReferralIdentifier.identifier_value == value, *reach.conditions()]
        if system is not None:
            conditions.append(ReferralIdentifier.identifier_system == system)
        rows = await self.session.execute(
            select(*_REFERRAL)
            .join(ReferralIdentifier, ReferralIdentifier.referral_id == Referral.id)
            .where(*conditions)
            .distinct()
        )
        return [CountedReferral(*row) for row in rows]

    async def has_local_identifier(self, person_key: str, system: str | None, value: str) -> bool:
        """Whether the person is known by this sender's patient identifier."""
        conditions = [
            PersonIdentifier.person_key == person_key,
            PersonIdentifier.identifier_value == value,
        ]
        if system is not None:
            conditions.append(PersonIdentifier.identifier_system == system)
        found = await self.session.execute(select(PersonIdentifier.person_key).where(*conditions))
        return found.first() is not None

    async def held(self, referral_id: str, measure: str, period: str) -> HeldCount | None:
        row = (
            await self.session.execute(
                select(
                    ServiceUse.id, ServiceUse.version, ServiceUse.as_of, ServiceUse.content_hash
                ).where(
                    ServiceUse.referral_id == referral_id,
                    ServiceUse.measure == measure,
                    ServiceUse.period == period,
                )
            )
        ).first()
        return HeldCount(*row) if row else None

    async def save(self, values: dict[str, Any], exists: bool) -> None:
        if exists:
            await self.session.execute(
                update(ServiceUse).where(ServiceUse.id == values["id"]).values(**values)
            )
        else:
            await self.session.execute(insert(ServiceUse).values(**values))

    async def stored(self, resource_id: str) -> tuple[int, datetime, str] | None:
        """The version, last update and served JSON of a count."""
        row = (
            await self.session.execute(
                select(ServiceUse.version, ServiceUse.last_updated_at, ServiceUse.resource).where(
                    ServiceUse.id == resource_id
                )
            )
        ).first()
        return (row[0], row[1], row[2]) if row else None
