"""The messages back to the referrer: written when a referral is accepted, declined, closed or
cancelled by the service, read by the people who run the service, and brought forward to be
retried.

`record_outcomes` runs in the transaction that changes the referral's lifecycle, so a message
is written exactly when the change commits: a change that fails leaves no message, and a change
that commits is never without its message. The worker (`worker.py`) delivers them.
"""

from datetime import datetime
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from referral_api.gp_messages import bundle
from referral_api.gp_messages.repository import (
    PENDING,
    SENT,
    STATES,
    UNDELIVERED,
    GpMessageRepository,
    StoredMessage,
)
from referral_api.lifecycle.service import CANCELLED_BY_SENDER
from referral_api.referrals.access import Reach
from signpost_platform.errors import BadRequest, Conflict, NotFound
from signpost_platform.fhir.responses import instant
from signpost_platform.outbox.table import delivery_view


def events(
    previous: dict[str, Any] | None, summary: dict[str, Any]
) -> list[tuple[bundle.Event, datetime | None]]:
    """What a lifecycle change tells the referrer: an acceptance (the first time the referral
    has an acceptance date), a decline, a closure or a cancellation by the service (on
    becoming declined, closed or cancelled, or a new date for it), with their dates. The
    referrer's own cancellation (its ServiceRequest revoked) is not reported back to it."""
    before = previous or {}
    found: list[tuple[bundle.Event, datetime | None]] = []
    if summary.get("accepted_at") and not before.get("accepted_at"):
        found.append(("accepted", summary["accepted_at"]))
    ending: tuple[tuple[bundle.Event, str], ...] = (
        ("declined", "declined_at"),
        ("closed", "closed_at"),
        ("cancelled", "cancelled_at"),
    )
    for event, moment in ending:
        if (
            summary["status"] == event
            and _reported(event, summary)
            and (
                not (before.get("status") == event and _reported(event, before))
                or before.get(moment) != summary.get(moment)
            )
        ):
            found.append((event, summary.get(moment)))
    return found


def _reported(event: bundle.Event, summary: dict[str, Any]) -> bool:
    """Whether `event` is one to tell the referrer of: not while the referral stands cancelled
    by the referrer itself (so a service's cancellation that stands once the referrer takes its
    own back is told then)."""
    return event != "cancelled" or summary.get("sender_status") not in CANCELLED_BY_SENDER


async def record_outcomes(
    session: AsyncSession,
    previous: dict[str, Any] | None,
    summary: dict[str, Any],
    referral: str,
    *,
    requester_ods: str,
    receiver_ods: str | None,
    base_url: str,
    now: datetime,
) -> int:
    """Write the messages a lifecycle change calls for (in the caller's transaction); how many.

    `referral` is the referral's served JSON after the change. A message already written for
    the same event (same referral, event and date) is not written again.
    """
    found = events(previous, summary)
    if not found:
        return 0
    document = orjson.loads(referral)
    repository = GpMessageRepository(session)
    for event, at in found:
        identifier = bundle.message_id(document["id"], event, at)
        message = bundle.build(
            identifier=identifier,
            event=event,
            event_at=at or now,
            created_at=now,
            referral=document,
            summary=summary,
            requester_ods=requester_ods,
            receiver_ods=receiver_ods,
            source_endpoint=_fhir_base(base_url),
        )
        await repository.add(
            {
                "id": identifier,
                "referral_id": document["id"],
                "event": event,
                "event_at": at or now,
                "requester_ods": requester_ods,
                "receiver_ods": receiver_ods,
                "state": PENDING,
                "attempts": 0,
                "next_attempt_at": now,
                "message": orjson.dumps(message).decode(),
                "created_at": now,
            }
        )
    return len(found)


def _fhir_base(base_url: str) -> str | None:
    """Where the referral is served; None when the change came from no HTTP request (an
    import), whose messages then name the referral by `urn:uuid`."""
    if base_url.startswith(("http://", "https://")):
        return f"{base_url.rstrip('/')}/fhir"
    return None


def view(stored: StoredMessage, *, with_message: bool = False) -> dict[str, Any]:
    """A message's state as served (and the Bundle itself when asked)."""
    shown: dict[str, Any] = {
        "id": stored.id,
        "referral_id": stored.referral_id,
        "event": stored.event,
        "event_at": instant(stored.event_at),
        "requester": stored.requester_ods,
        **delivery_view(stored),
        "endpoint": stored.endpoint,
        "sent_at": instant(stored.sent_at) if stored.sent_at else None,
    }
    if with_message and stored.message:
        shown["message"] = orjson.loads(stored.message)
    return {key: value for key, value in shown.items() if value is not None}


async def messages_by_state(
    session: AsyncSession,
    states: list[str] | None,
    requesters: list[str] | None,
    limit: int,
    offset: int,
    reach: Reach,
) -> tuple[int, list[dict[str, Any]]]:
    """How many messages within `reach` are in `states` (default: undelivered), and a page."""
    wanted = states or list(UNDELIVERED)
    if unknown := [s for s in wanted if s not in STATES]:
        raise BadRequest(
            f"unknown state {unknown[0]!r}: use {', '.join(STATES)}", expression="state"
        )
    total, rows = await GpMessageRepository(session).by_state(
        wanted, [r.upper() for r in requesters or []], limit, offset, reach
    )
    return total, [view(row) for row in rows]


async def read_message(session: AsyncSession, message_id: str, reach: Reach) -> dict[str, Any]:
    """One message with its Bundle; 404 when there is none within `reach`."""
    stored = await GpMessageRepository(session).get(message_id, reach)
    if stored is None:
        raise NotFound(f"no message {message_id}", expression="message_id")
    return view(stored, with_message=True)


async def retry(
    session: AsyncSession, message_id: str, reach: Reach, now: datetime
) -> dict[str, Any]:
    """Make an undelivered message due now; a delivered one is 409 (it is never sent twice)."""
    repository = GpMessageRepository(session)
    stored = await repository.get(message_id, reach)
    if stored is None:
        raise NotFound(f"no message {message_id}", expression="message_id")
    if stored.state == SENT:
        raise Conflict(
            f"message {message_id} was delivered; it is not sent again", expression="message_id"
        )
    await repository.due_now(message_id, now)
    refreshed = await repository.get(message_id, reach)
    assert refreshed is not None
    return view(refreshed)
