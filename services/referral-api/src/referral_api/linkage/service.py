"""Linking one person's referrals: several roles at once, and re-referrals to the same role.

Two referrals of one person (by person key: the NHS number, or the person a sender's own patient
identifier names, see `people.identity`) are linked when
- `concurrent-other-role`: they are to different roles, the later one was made within the window
  of the earlier, and the earlier was still open on the later one's referral date;
- `re-referral-of` / `re-referred-as`: they are to the same role and the later one was made after
  the earlier one ended (closed, declined or cancelled: `rendering.ended`), within the window
  of that end.
The links are recomputed from these facts for the whole person whenever one of their referrals
changes, so they do not depend on the order messages arrive in. The window is
`REFERRAL_LINKAGE_WINDOW_DAYS` (default 90). Links are kept in `referral_link` only and
rendered when a referral is served, for that caller (`rendering.service_request.served`): a new
link changes no referral's version.
"""

from bisect import bisect_left, bisect_right
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from referral_api.linkage.repository import LinkageRepository, PersonReferral

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
    """Recompute the person's links; return the referrals whose links changed.

    The caller holds the person's lock (`lock_people`)."""
    repository = LinkageRepository(session)
    referrals, held = await repository.referrals_and_links_of(person_key)
    wanted: set[Link] = set()
    if len(referrals) > 1:  # most people have one referral: nothing to link
        ended = {r.id: r.ended_at for r in referrals}
        wanted = compute_links(referrals, ended, timedelta(days=window_days))
    stale, new = held - wanted, wanted - held
    await repository.remove(sorted(stale))
    await repository.add(person_key, sorted(new))
    return {a for a, _, _ in stale | new} | {b for _, b, _ in stale | new}


async def lock_people(session: AsyncSession, person_keys: set[str]) -> None:
    """Take these people's linkage locks now, in the order `relink_people` takes them, for a
    writer that must hold them before its other writes (it relinks them later, still holding
    them: taking them again costs a round trip and changes nothing)."""
    await LinkageRepository(session).lock_people(sorted(person_keys))


async def relink_people(
    session: AsyncSession, person_keys: set[str], window_days: int, *, locked: bool = False
) -> set[str]:
    """Relink each of these people (a referral's person, a former person, people joined into
    it); return the referrals whose links changed. `locked`: the caller holds their locks
    already (`lock_people`).

    Every person's lock is taken first, in sorted order, so writers for one person (messages and
    REST writes at once) relink one after another and never deadlock: each sees the referrals
    the others committed. Links live in `referral_link` only and are shown when a referral is
    served (`rendering.service_request.served`), so relinking rewrites no referral and gives
    none a new version. (A create that names its person by NHS number alone takes that lock up
    front and calls `relink`.)
    """
    if not locked:
        await lock_people(session, person_keys)
    changed: set[str] = set()
    for person_key in sorted(person_keys):
        changed |= await relink(session, person_key, window_days)
    return changed
