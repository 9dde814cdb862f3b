"""All SQL about the person of a referral."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, insert, or_, select, update

from referral_api.db import conflict_insert
from referral_api.linkage.models import ReferralLink
from referral_api.people.models import PersonIdentifier, ReferralPerson
from referral_api.referrals.models import Referral
from signpost_platform.db import Repository, dialect_of, execute_core

_HELD = select(ReferralPerson.as_of, ReferralPerson.content_hash).where(
    ReferralPerson.referral_id == bindparam("key")
)
_INSERT = insert(ReferralPerson)
_UPDATE = update(ReferralPerson).where(ReferralPerson.referral_id == bindparam("key"))


class PersonRepository(Repository):
    async def held_version(self, referral_id: str) -> tuple[datetime, str] | None:
        row = (await execute_core(self.session, _HELD, {"key": referral_id})).first()
        return (row[0], row[1]) if row else None

    async def save(self, values: dict[str, Any], exists: bool) -> None:
        if exists:
            changes = {k: v for k, v in values.items() if k != "referral_id"}
            await execute_core(self.session, _UPDATE, {**changes, "key": values["referral_id"]})
        else:
            await execute_core(self.session, _INSERT, values)


class IdentityRepository(Repository):
    """Local patient identifiers, the person keys they map to, and joining two people."""

    async def keys_of(self, identifiers: Sequence[tuple[str, str]]) -> dict[tuple[str, str], str]:
        """The person key each of `identifiers` is mapped to (unmapped ones are left out)."""
        if not identifiers:
            return {}
        rows = await self.session.execute(
            select(
                PersonIdentifier.identifier_system,
                PersonIdentifier.identifier_value,
                PersonIdentifier.person_key,
            ).where(
                or_(
                    *(
                        and_(
                            PersonIdentifier.identifier_system == system,
                            PersonIdentifier.identifier_value == value,
                        )
                        for system, value in identifiers
                    )
                )
            )
        )
        return {(row[0], row[1]): row[2] for row in rows}

    async def map(self, identifiers: Sequence[tuple[str, str]], person_key: str) -> None:
        """Map unmapped `identifiers` to `person_key`; one a concurrent writer mapped first
        keeps its key (the caller reads the keys again)."""
        if not identifiers:
            return
        statement = conflict_insert(
            dialect_of(self.session), PersonIdentifier
        ).on_conflict_do_nothing(index_elements=["identifier_system", "identifier_value"])
        await self.session.execute(
            statement,
            [
                {"identifier_system": s, "identifier_value": v, "person_key": person_key}
                for s, v in identifiers
            ],
        )

    async def join(self, former_key: str, person_key: str) -> list[str]:
        """File everything of the person `former_key` under `person_key`: their identifiers,
        referrals and links. Returns the referrals moved."""
        moved = list(
            (
                await self.session.execute(
                    select(Referral.id)
                    .where(Referral.person_key == former_key)
                    .order_by(Referral.id)
                    .with_for_update()
                )
            ).scalars()
        )
        await self.session.execute(
            update(PersonIdentifier)
            .where(PersonIdentifier.person_key == former_key)
            .values(person_key=person_key)
        )
        await self.session.execute(
            update(Referral).where(Referral.person_key == former_key).values(person_key=person_key)
        )
        await self.session.execute(
            update(ReferralLink)
            .where(ReferralLink.person_key == former_key)
            .values(person_key=person_key)
        )
        return moved

    async def set_person(self, referral_id: str, person_key: str) -> None:
        await self.session.execute(
            update(Referral).where(Referral.id == referral_id).values(person_key=person_key)
        )
