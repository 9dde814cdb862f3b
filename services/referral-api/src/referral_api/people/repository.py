"""All SQL about the person of a referral."""

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from referral_api.people.models import ReferralPerson
from signpost_platform.db import execute_core

_HELD = select(ReferralPerson.as_of, ReferralPerson.content_hash).where(
    ReferralPerson.referral_id == bindparam("key")
)
_INSERT = insert(ReferralPerson)
_UPDATE = update(ReferralPerson).where(ReferralPerson.referral_id == bindparam("key"))


class PersonRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def held_version(self, referral_id: str) -> tuple[datetime, str] | None:
        row = (await execute_core(self.session, _HELD, {"key": referral_id})).first()
        return (row[0], row[1]) if row else None

    async def save(self, values: dict[str, Any], exists: bool) -> None:
        if exists:
            changes = {k: v for k, v in values.items() if k != "referral_id"}
            await execute_core(self.session, _UPDATE, {**changes, "key": values["referral_id"]})
        else:
            await execute_core(self.session, _INSERT, values)
