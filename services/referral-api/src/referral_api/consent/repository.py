"""All SQL about consent: the Consents recorded and each person's current decision."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, func, insert, or_, select, update

from referral_api.consent.models import ConsentRecord, PersonConsent
from referral_api.referrals.access import Reach
from referral_api.referrals.models import Referral
from signpost_platform.db import Repository, lock_keys
from signpost_platform.fhir.search import DateRange, date_condition


@dataclass(frozen=True, slots=True)
class StoredConsent:
    id: str
    version: int
    last_updated_at: datetime
    resource: str


@dataclass(frozen=True, slots=True)
class ConsentFilter:
    """A Consent search: each list ANDs, the values within one OR."""

    nhs_numbers: list[list[str]]
    statuses: list[list[str]]
    ids: list[list[str]]
    last_updated: list[DateRange]


_STORED = (
    ConsentRecord.id,
    ConsentRecord.version,
    ConsentRecord.last_updated_at,
    ConsentRecord.resource,
)


class ConsentRepository(Repository):
    async def referral_person(self, referral_id: str, reach: Reach) -> str | None:
        """The person key of a referral the caller may see; None if it may not."""
        return (
            await self.session.execute(
                select(Referral.person_key).where(Referral.id == referral_id, *reach.conditions())
            )
        ).scalar_one_or_none()

    async def by_identifier(self, system: str, value: str) -> tuple[StoredConsent, str] | None:
        """The Consent recorded with this identifier and the organisation that recorded it."""
        row = (
            await self.session.execute(
                select(*_STORED, ConsentRecord.organization_ods).where(
                    ConsentRecord.identifier_system == system,
                    ConsentRecord.identifier_value == value,
                )
            )
        ).first()
        return None if row is None else (StoredConsent(*row[:4]), row[4])

    async def lock_identifier(self, system: str, value: str) -> None:
        """One create at a time per identifier (PostgreSQL; SQLite writes one at a time)."""
        await lock_keys(self.session, [f"consent|{system}|{value}"])

    async def add(self, values: dict[str, Any]) -> None:
        await self.session.execute(insert(ConsentRecord).values(**values))

    async def decide(self, person_key: str) -> None:
        """Derive the person's decision again from their latest Consent that counts."""
        latest = (
            await self.session.execute(
                select(ConsentRecord.id, ConsentRecord.withdrawn, ConsentRecord.decided_at)
                .where(
                    ConsentRecord.person_key == person_key,
                    ConsentRecord.status.in_(("active", "inactive", "rejected")),
                )
                .order_by(
                    ConsentRecord.decided_at.desc(),
                    ConsentRecord.last_updated_at.desc(),
                    ConsentRecord.id.desc(),
                )
                .limit(1)
            )
        ).first()
        held = (
            await self.session.execute(
                select(PersonConsent.person_key).where(PersonConsent.person_key == person_key)
            )
        ).first()
        if latest is None:
            await self.session.execute(
                delete(PersonConsent).where(PersonConsent.person_key == person_key)
            )
            return
        values = {"consent_id": latest[0], "withdrawn": latest[1], "decided_at": latest[2]}
        if held is None:
            await self.session.execute(
                insert(PersonConsent).values(person_key=person_key, **values)
            )
        else:
            await self.session.execute(
                update(PersonConsent).where(PersonConsent.person_key == person_key).values(**values)
            )

    async def get(self, consent_id: str, reach: Reach) -> StoredConsent | None:
        row = (
            await self.session.execute(
                select(*_STORED).where(ConsentRecord.id == consent_id, *_within(reach))
            )
        ).first()
        return StoredConsent(*row) if row else None

    async def search(
        self, found: ConsentFilter, count: int, offset: int, with_total: bool, reach: Reach
    ) -> tuple[int | None, list[StoredConsent]]:
        conditions: list[ColumnElement[bool]] = [
            ConsentRecord.person_key.in_(values) for values in found.nhs_numbers
        ]
        conditions += [ConsentRecord.status.in_(values) for values in found.statuses]
        conditions += [ConsentRecord.id.in_(values) for values in found.ids]
        conditions += [date_condition(ConsentRecord.last_updated_at, r) for r in found.last_updated]
        conditions += _within(reach)
        rows = await self.session.execute(
            select(*_STORED)
            .where(*conditions)
            .order_by(ConsentRecord.decided_at, ConsentRecord.id)
            .limit(count)
            .offset(offset)
        )
        stored = [StoredConsent(*row) for row in rows]
        total = None
        if with_total:
            total = (
                await self.session.execute(
                    select(func.count()).select_from(ConsentRecord).where(*conditions)
                )
            ).scalar_one()
        return total, stored


def _within(reach: Reach) -> list[ColumnElement[bool]]:
    """Consents the caller's organisation recorded, or recorded for a referral it may see."""
    if reach.unrestricted:
        return []
    return [
        or_(
            ConsentRecord.organization_ods == reach.organisation,
            ConsentRecord.referral_id.in_(reach.visible_ids()),
        )
    ]
