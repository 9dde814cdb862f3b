"""Who a referral is for: one person key, from an NHS number or the sender's patient identifiers.

A person with an NHS number is keyed by it. A person a sender identifies only by its own patient
number (a Rio or EMIS local identifier: any system other than the NHS number's) is keyed
`local-<uuid>`, and `person_identifier` maps each such identifier to its person's key, so every
referral filed under one identifier belongs to one person: linkage, search and report
pseudonyms go by the key.

When an NHS number arrives together with a local identifier (a message whose Patient carries
both, or an update replacing a referral's local identifier with an NHS number), the people are
joined: the local person's identifiers, referrals and links are filed under the NHS number, and
the caller relinks the joined person. Two NHS numbers are never joined: a local identifier
already mapped to one NHS number keeps it when another arrives (that referral is filed under
the NHS number it names).
"""

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from referral_api.people.repository import IdentityRepository

LOCAL_PREFIX = "local-"


@dataclass(frozen=True, slots=True)
class Person:
    """The person key a referral is filed under, and what finding it changed."""

    key: str
    # Former local person keys now filed under `key`, and the referrals moved with them.
    joined: frozenset[str] = frozenset()
    moved: tuple[str, ...] = ()


def is_local(person_key: str) -> bool:
    return person_key.startswith(LOCAL_PREFIX)


async def identify(
    session: AsyncSession, nhs_number: str | None, local_identifiers: Sequence[tuple[str, str]]
) -> Person:
    """The person of `nhs_number` and/or `local_identifiers`, joining people they show to be
    one. Unmapped local identifiers are mapped to the person found (or to a new local key)."""
    repository = IdentityRepository(session)
    wanted = sorted(set(local_identifiers))
    held = await repository.keys_of(wanted)
    target = nhs_number or _preferred(held.values()) or f"{LOCAL_PREFIX}{uuid.uuid4().hex}"
    unmapped = [identifier for identifier in wanted if identifier not in held]
    if unmapped:
        await repository.map(unmapped, target)
        # A concurrent writer may have mapped one first: its key then takes part in the join.
        held.update(await repository.keys_of(unmapped))
        target = nhs_number or _preferred(held.values()) or target
    joined = sorted({key for key in held.values() if is_local(key) and key != target})
    moved: list[str] = []
    for former in joined:
        moved += await repository.join(former, target)
    return Person(target, frozenset(joined), tuple(moved))


def key_without_lookup(
    nhs_number: str | None, local_identifiers: Sequence[tuple[str, str]]
) -> str | None:
    """The person key `identify` will find without a query, if it will: the NHS number, when
    no local identifier comes with it (one could join a local person into it)."""
    return nhs_number if nhs_number and not local_identifiers else None


def _preferred(keys: Iterable[str]) -> str | None:
    """Of the people local identifiers map to, the one to file under: an NHS number first."""
    ordered = sorted(set(keys), key=lambda key: (is_local(key), key))
    return ordered[0] if ordered else None


async def file_referral(session: AsyncSession, referral_id: str, person_key: str) -> None:
    """File one referral under `person_key` (its subject now names another person)."""
    await IdentityRepository(session).set_person(referral_id, person_key)
