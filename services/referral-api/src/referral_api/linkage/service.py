"""Linking one person's referrals: several roles at once, and re-referrals to the same role.

Two referrals of one person (by NHS number) are linked when
- `concurrent-other-role`: they are to different roles, the later one was made within the window
  of the earlier, and the earlier was still open on the later one's referral date;
- `re-referral-of` / `re-referred-as`: they are to the same role and the later one was made after
  the earlier one ended (closed, declined or cancelled), within the window of that end.
The links are recomputed from these facts for the whole person whenever one of their referrals
changes, so they do not depend on the order messages arrive in. The window is
`REFERRAL_LINKAGE_WINDOW_DAYS` (default 90).
"""

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from referral_api.lifecycle.repository import LifecycleRepository
from referral_api.linkage.repository import LinkageRepository, PersonReferral
from signpost_schemas.fhir import profiles

Link = tuple[str, str, str]


def compute_links(
    referrals: list[PersonReferral], ended: dict[str, datetime | None], window: timedelta
) -> set[Link]:
    """Every link (both directions) among one person's referrals, ordered by referral date."""
    links: set[Link] = set()
    for index, earlier in enumerate(referrals):
        for later in referrals[index + 1 :]:
            gap = later.authored_at - earlier.authored_at
            earlier_end = ended.get(earlier.id)
            if earlier.received_by_role != later.received_by_role:
                still_open = earlier_end is None or earlier_end > later.authored_at
                if gap <= window and still_open:
                    links.add((earlier.id, later.id, "concurrent-other-role"))
                    links.add((later.id, earlier.id, "concurrent-other-role"))
            elif (
                earlier_end is not None
                and earlier_end <= later.authored_at
                and (later.authored_at - earlier_end <= window)
            ):
                links.add((later.id, earlier.id, "re-referral-of"))
                links.add((earlier.id, later.id, "re-referred-as"))
    return links


async def relink(session: AsyncSession, nhs_number: str, window_days: int) -> set[str]:
    """Recompute the person's links; return the referrals whose links changed."""
    repository = LinkageRepository(session)
    referrals = await repository.referrals_of(nhs_number)
    ended = await LifecycleRepository(session).ended_at([r.id for r in referrals])
    wanted = compute_links(referrals, ended, timedelta(days=window_days))
    held = await repository.links_of_person(nhs_number)
    stale, new = held - wanted, wanted - held
    await repository.remove(sorted(stale))
    await repository.add(nhs_number, sorted(new))
    return {a for a, _, _ in stale | new} | {b for _, b, _ in stale | new}


async def link_extensions(session: AsyncSession, referral_id: str) -> list[dict[str, Any]]:
    """The referral's links as Extension-Signpost-LinkedReferral entries."""
    return [
        {
            "url": profiles.LINKED_REFERRAL_EXTENSION,
            "extension": [
                {"url": "referral", "valueReference": {"reference": f"ServiceRequest/{linked}"}},
                {"url": "type", "valueCode": link_type},
            ],
        }
        for linked, link_type in await LinkageRepository(session).links_of(referral_id)
    ]
