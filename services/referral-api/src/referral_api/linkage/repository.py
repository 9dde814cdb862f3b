"""All SQL about referral links."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    String,
    and_,
    bindparam,
    delete,
    exists,
    insert,
    literal,
    literal_column,
    null,
    or_,
    select,
    union_all,
)

from referral_api.audit import trail
from referral_api.consent.models import PersonConsent
from referral_api.lifecycle.models import ReferralLifecycle
from referral_api.linkage.models import ReferralLink
from referral_api.referrals.models import Referral
from referral_api.rendering.ended import ended_at_column
from signpost_platform.audit import AuditEvent
from signpost_platform.db import (
    AnySelect,
    DriverStatement,
    Repository,
    aware_utc,
    commits_each_statement,
    execute_core,
    lock_keys,
)


@dataclass(frozen=True, slots=True)
class PersonReferral:
    id: str
    received_by_role: str
    authored_at: datetime
    # When it stopped being open (closed, declined or cancelled), if it did.
    ended_at: datetime | None = None


# A person's referrals with when each ended, and their links, in one round trip (a create or
# message relinks its person on the hot path): rows of (kind, then a referral's id, role, None,
# authored and ended, or a link's referral, linked referral and type, None, None), the links
# first, then the referrals in the order they were authored.
_PERSON_REFERRAL, _PERSON_LINK = "referral", "link"
_REFERRALS_AND_LINKS_OF = DriverStatement(
    union_all(
        select(
            literal(_PERSON_REFERRAL).label("kind"),
            Referral.id.label("key_a"),
            Referral.received_by_role.label("key_b"),
            null().cast(String).label("key_c"),
            Referral.authored_at.label("authored_at"),
            ended_at_column().label("ended_at"),
        )
        .outerjoin(ReferralLifecycle, ReferralLifecycle.referral_id == Referral.id)
        .where(Referral.person_key == bindparam("person_key")),
        select(
            literal(_PERSON_LINK),
            ReferralLink.referral_id,
            ReferralLink.linked_referral_id,
            ReferralLink.link_type,
            null().cast(Referral.authored_at.type),
            null().cast(Referral.authored_at.type),
        ).where(ReferralLink.person_key == bindparam("person_key")),
    ).order_by(literal_column("kind"), literal_column("authored_at"), literal_column("key_a"))
)
_LINKS_OF = (
    select(ReferralLink.linked_referral_id, ReferralLink.link_type)
    .where(ReferralLink.referral_id == bindparam("key"))
    .order_by(ReferralLink.link_type, ReferralLink.linked_referral_id)
)


# The columns of a `ShownLink`, in its order, and the order of one referral's links.
_SHOWN = (
    ReferralLink.referral_id,
    ReferralLink.linked_referral_id,
    ReferralLink.link_type,
    Referral.received_by_role,
    Referral.authored_at,
    Referral.requester_ods,
    Referral.receiver_ods,
    exists()
    .where(
        PersonConsent.person_key == ReferralLink.person_key,
        PersonConsent.withdrawn.is_(True),
    )
    .label("withdrawn"),
)
_SHOWN_ORDER = (ReferralLink.link_type, ReferralLink.linked_referral_id)
_LINKS_SHOWN = (
    select(*_SHOWN)
    .join(Referral, Referral.id == ReferralLink.linked_referral_id)
    .where(ReferralLink.referral_id.in_(bindparam("keys", expanding=True)))
    .order_by(ReferralLink.referral_id, *_SHOWN_ORDER)
)


_LINKS_SHOWN_RECORDED = trail.alongside(_LINKS_SHOWN)


def shown_links_of(referral_id: ColumnElement[str]) -> AnySelect:
    """The links of the referral `referral_id` names (a column of an enclosing statement), as
    `shown_link` reads them, in their order: a referral and its links in one statement."""
    return (
        select(*_SHOWN)
        .join(Referral, Referral.id == ReferralLink.linked_referral_id)
        .where(ReferralLink.referral_id == referral_id)
        .order_by(*_SHOWN_ORDER)
    )


def person_lock_key(person_key: str) -> str:
    """The advisory lock key of a person (`lock_people`); a create that knows its person up
    front takes it with its identifier locks (`ReferralRepository.lock_identifiers`)."""
    return f"person|{person_key}"


@dataclass(frozen=True, slots=True)
class ShownLink:
    """A link of `referral_id`, with what may be shown of the linked referral."""

    referral_id: str
    linked_referral_id: str
    link_type: str
    received_by_role: str
    authored_at: datetime
    requester_ods: str
    receiver_ods: str | None
    # The person withdrew consent to share (`consent`): not shown to other organisations.
    withdrawn: bool


def shown_link(row: Sequence[Any]) -> ShownLink:
    """A `ShownLink` from the columns of `shown_links_of` (or of `shown_links`)."""
    return ShownLink(row[0], row[1], row[2], row[3], row[4], row[5], row[6], bool(row[7]))


class LinkageRepository(Repository):
    async def referrals_and_links_of(
        self, person_key: str
    ) -> tuple[list[PersonReferral], set[tuple[str, str, str]]]:
        """The person's referrals, in the order they were authored, with when each ended, and
        the person's links (referral, linked referral, type), in one round trip."""
        rows = await _REFERRALS_AND_LINKS_OF.fetch(self.session, {"person_key": person_key})
        referrals = [
            PersonReferral(row[1], row[2], row[4], aware_utc(row[5]))
            for row in rows
            if row[0] == _PERSON_REFERRAL
        ]
        links = {(row[1], row[2], row[3]) for row in rows if row[0] == _PERSON_LINK}
        return referrals, links

    async def people_after(self, after: str | None, limit: int) -> list[str]:
        """Up to `limit` person keys with a referral, in order, after `after` (from the first
        when None): every person, a page at a time."""
        statement = select(Referral.person_key).distinct().order_by(Referral.person_key)
        if after is not None:
            statement = statement.where(Referral.person_key > after)
        rows = await execute_core(self.session, statement.limit(limit))
        return [row[0] for row in rows]

    async def lock_people(self, person_keys: Sequence[str]) -> None:
        """Let one transaction at a time write the links of each of these people: a
        transaction-scoped advisory lock per person key, taken in sorted order, in one round
        trip. SQLite needs nothing: it runs one write transaction at a time already."""
        await lock_keys(self.session, [person_lock_key(k) for k in sorted(set(person_keys))])

    async def shown_links(
        self, referral_ids: Sequence[str], *, event: AuditEvent | None = None
    ) -> list[ShownLink]:
        """The links of `referral_ids`, with the linked referral's role, date and parties.

        `event` (a search's audit event) is written too: in the same statement in a read
        session on PostgreSQL (one round trip), else before the links are read."""
        if event is not None and referral_ids and commits_each_statement(self.session):
            parameters = {"keys": list(referral_ids), **trail.event_parameters(event)}
            rows = await execute_core(self.session, _LINKS_SHOWN_RECORDED, parameters)
            return [shown_link(row) for row in rows]
        if event is not None:
            await trail.write(self.session, event)
        if not referral_ids:
            return []
        rows = await execute_core(self.session, _LINKS_SHOWN, {"keys": list(referral_ids)})
        return [shown_link(row) for row in rows]

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
