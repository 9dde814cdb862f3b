"""`/referral-handoffs`: the state of every referral hand-off, for the people who run the service.

Pending and failing rows are the ones to watch: a failing row shows how many attempts were made
and the last error, and is retried until referral-api accepts it.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy.ext.asyncio import AsyncSession

from screening_api.access import Reach
from screening_api.audit import trail
from screening_api.handoff.repository import STATES, Handoff, HandoffRepository
from signpost_platform.auth import Caller, require_scope
from signpost_platform.db import SessionDep
from signpost_platform.errors import BadRequest, NotFound
from signpost_platform.fhir.responses import instant

router = APIRouter(prefix="/referral-handoffs", tags=["referral hand-off"])

ReadCaller = Annotated[Caller, require_scope("screening:read")]
RESOURCE = "ReferralHandoff"  # keyed by the response it belongs to


def _view(handoff: Handoff) -> dict[str, Any]:
    view: dict[str, Any] = {
        "response_id": handoff.response_id,
        "state": handoff.state,
        "attempts": handoff.attempts,
        "created_at": instant(handoff.created_at),
        "next_attempt_at": instant(handoff.next_attempt_at) if handoff.state != "sent" else None,
        "last_attempt_at": instant(handoff.last_attempt_at) if handoff.last_attempt_at else None,
        "last_error": handoff.last_error,
        "referral_id": handoff.referral_id,
        "sent_at": instant(handoff.sent_at) if handoff.sent_at else None,
        "referral_status": handoff.referral_status,
        "referral_accepted": handoff.referral_accepted,
        "referral_closed": handoff.referral_closed,
    }
    return {key: value for key, value in view.items() if value is not None}


@router.get(
    "",
    operation_id="listReferralHandoffs",
    description="The referrals screening-api is handing to referral-api, by state (pending, sent,"
    " failing), with attempts and the last error: the outbox, for support staff.",
    summary="Hand-offs by state",
)
async def list_handoffs(
    session: SessionDep,
    caller: ReadCaller,
    state: Annotated[list[str] | None, Query(description="pending, sent or failing")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    states = state or ["pending", "failing"]
    if unknown := [s for s in states if s not in STATES]:
        raise BadRequest(
            f"unknown state {unknown[0]!r}: use pending, sent or failing", expression="state"
        )
    total, rows = await HandoffRepository(session).by_state(states, limit, offset, Reach.of(caller))
    await trail.record(
        session, caller, "search", RESOURCE, returned_ids=[row.response_id for row in rows]
    )
    return {"total": total, "items": [_view(row) for row in rows]}


@router.get(
    "/{response_id}",
    operation_id="readReferralHandoff",
    description="The hand-off of one screening response: its state, attempts, last error and, "
    "once sent, the referral created.",
    summary="One hand-off",
)
async def read_handoff(response_id: str, session: SessionDep, caller: ReadCaller) -> dict[str, Any]:
    handoff = await _get(session, response_id, Reach.of(caller))
    await trail.record(session, caller, "read", RESOURCE, response_id)
    return _view(handoff)


async def _get(session: AsyncSession, response_id: str, reach: Reach) -> Handoff:
    handoff = await HandoffRepository(session).get(response_id, reach)
    if handoff is None:
        raise NotFound(f"no referral hand-off for response {response_id}", expression="response_id")
    return handoff
