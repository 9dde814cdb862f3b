"""Linking one person's referrals: several roles at once, and re-referrals to the same role.

Two referrals of one person (by person key: the NHS number, or the person a sender's own patient
identifier names, see `people.identity`) are linked when
- `concurrent-other-role`: they are to different roles, the later one was made within the window
  of the earlier, and the earlier was still open on the later one's referral date;
- `re-referral-of` / `re-referred-as`: they are to the same role and the later one was made after
  the earlier one ended (closed, declined or cancelled), within the window of that end.
The links are recomputed from these facts for the whole person whenever one of their referrals
changes, so they do not depend on the order messages arrive in. The window is
`REFERRAL_LINKAGE_WINDOW_DAYS` (default 90).
"""

from bisect import bisect_left, bisect_right
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from referral_api.lifecycle import service as lifecycle
from referral_api.lifecycle.repository import LifecycleRepository
from referral_api.linkage.repository import LinkageRepository, PersonReferral
from referral_api.referrals import service as referrals
from referral_api.referrals.repository import StoredReferral
from signpost_schemas.fhir import profiles

Link = tuple[str, str, str]


def compute_links(
    referrals: list[PersonReferral], ended: dict[str, datetime | None], window: timedelta
) -> set[Link]:
    """Every link (both directions) among one person's referrals, ordered by referral date.

    For each referral only the candidates are visited: the person's referrals to each role are
    kept sorted by (date, position), and a binary search finds the ones inside the window, so a
    person with thousands of referrals costs O(n log n) plus the links found, not O(n²).
    """
    by_role: dict[str, list[tuple[datetime, int]]] = {}
    for position, referral in enumerate(referrals):  # already in (date, id) order
        by_role.setdefault(referral.received_by_role, []).append((referral.authored_at, position))
    links: set[Link] = set()
    for position, earlier in enumerate(referrals):
        after_earlier = (earlier.authored_at, position)
        earlier_end = ended.get(earlier.id)
        for role, dated in by_role.items():
            if role == earlier.received_by_role:
                continue
            # Another role, made within the window while the earlier one was still open.
            first = bisect_right(dated, after_earlier)
            last = bisect_right(dated, (earlier.authored_at + window, len(referrals)))
            for authored_at, index in dated[first:last]:
                if earlier_end is None or earlier_end > authored_at:
                    later = referrals[index]
                    links.add((earlier.id, later.id, "concurrent-other-role"))
                    links.add((later.id, earlier.id, "concurrent-other-role"))
        if earlier_end is None:
            continue
        # The same role, made after the earlier one ended, within the window of that end.
        dated = by_role[earlier.received_by_role]
        first = max(bisect_right(dated, after_earlier), bisect_left(dated, (earlier_end, -1)))
        last = bisect_right(dated, (earlier_end + window, len(referrals)))
        for _, index in dated[first:last]:
            later = referrals[index]
            links.add((later.id, earlier.id, "re-referral-of"))
            links.add((earlier.id, later.id, "re-referred-as"))
    return links


async def relink(session: AsyncSession, person_key: str, window_days: int) -> set[str]:
    """Recompute the person's links; return the referrals whose links changed."""
    repository = LinkageRepository(session)
    referrals = await repository.referrals_of(person_key)
    wanted: set[Link] = set()
    if len(referrals) > 1:  # most people have one referral: nothing to link, one query fewer
        ended = await LifecycleRepository(session).ended_at([r.id for r in referrals])
        wanted = compute_links(referrals, ended, timedelta(days=window_days))
    held = await repository.links_of_person(person_key)
    stale, new = held - wanted, wanted - held
    await repository.remove(sorted(stale))
    await repository.add(person_key, sorted(new))
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


async def show_links(
    session: AsyncSession, referral_id: str, *, keep_version: bool = False
) -> StoredReferral | None:
    """Re-render a referral whose links changed; None if its rendering did not change.

    `keep_version` is for a referral written earlier in this same transaction (not yet served).
    """
    found = await lifecycle.referral_and_summary(session, referral_id)
    if found is None:
        return None
    referral, summary = found
    extensions = (
        [lifecycle.summary_extension(summary, referral.source_system)] if summary else []
    ) + await link_extensions(session, referral_id)
    status = (
        lifecycle.served_status(summary["sender_status"], summary["status"])
        if summary
        else referral.status
    )
    return await referrals.save_from_message(
        session,
        referral,
        None,
        as_of=None,
        server_extensions=extensions,
        status=status,
        keep_version=keep_version,
    )


async def link_person(
    session: AsyncSession, referral_id: str, person_keys: set[str], window_days: int
) -> StoredReferral | None:
    """After a referral was written through the REST API: relink its person (and a former
    person, if it changed, and people joined into it) and return the referral's new rendering
    if its own links changed (same version: it has not been served yet).

    The person's other referrals whose links changed are re-rendered at once, as a new version:
    both sides of a link show it as soon as it exists. They are locked in id order, so two
    writers relinking one person cannot deadlock.
    """
    changed: set[str] = set()
    for person_key in sorted(person_keys):
        changed |= await relink(session, person_key, window_days)
    for other_id in sorted(changed - {referral_id}):
        await show_links(session, other_id)
    if referral_id in changed:
        return await show_links(session, referral_id, keep_version=True)
    return None
