"""`/referral-handoffs`: the state of every referral hand-off, for the people who run the service.

Pending and failing rows are the ones to watch: a failing row shows how many attempts were made
and the last error, and is retried until referral-api accepts it.
"""

from typing import Annotated, Any

from fastapi import APIRouter

from screening_api.access import Reach
from screening_api.audit import trail
from screening_api.handoff import service
from screening_api.handoff.search import States
from signpost_platform.auth import Caller, require_scope
from signpost_platform.db import SessionDep
from signpost_platform.paging import Limit, Offset
from signpost_platform.routing import CheckedRoute

router = APIRouter(
    route_class=CheckedRoute, prefix="/referral-handoffs", tags=["referral hand-off"]
)

ReadCaller = Annotated[Caller, require_scope("screening:read")]
RESOURCE = "ReferralHandoff"  # keyed by the response it belongs to


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
    state: States = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    total, items = await service.handoffs_by_state(
        session, state or ["pending", "failing"], limit, offset, Reach.of(caller)
    )
    await trail.record(
        session, caller, "search", RESOURCE, returned_ids=[item["response_id"] for item in items]
    )
    return {"total": total, "items": items}


@router.get(
    "/{response_id}",
    operation_id="readReferralHandoff",
    description="The hand-off of one screening response: its state, attempts, last error and, "
    "once sent, the referral created.",
    summary="One hand-off",
)
async def read_handoff(response_id: str, session: SessionDep, caller: ReadCaller) -> dict[str, Any]:
    handoff = await service.read_handoff(session, response_id, Reach.of(caller))
    await trail.record(session, caller, "read", RESOURCE, response_id)
    return handoff
