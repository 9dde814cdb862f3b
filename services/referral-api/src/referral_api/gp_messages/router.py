"""`/gp-messages`: the messages back to the GP and referrer, their delivery state, and retries.

Undelivered messages (pending, failing, undeliverable) are the ones to watch: a failing one shows
its attempts and last error, an undeliverable one a referrer with no endpoint configured. Each is
retried until its endpoint accepts it; a retry can also be asked for now.
"""

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Request

from referral_api.audit import trail
from referral_api.gp_messages import service
from referral_api.gp_messages.search import Requesters, States
from referral_api.referrals.access import Reach
from signpost_platform.auth import Caller, require_scope
from signpost_platform.db import ReadSessionDep, SessionDep
from signpost_platform.paging import Limit, Offset
from signpost_platform.routing import CheckedRoute

router = APIRouter(route_class=CheckedRoute, prefix="/gp-messages", tags=["messages to referrers"])

ReadCaller = Annotated[Caller, require_scope("referral:read")]
WriteCaller = Annotated[Caller, require_scope("referral:write")]
RESOURCE = "GpMessage"


@router.get(
    "",
    operation_id="listGpMessages",
    summary="Messages back to referrers, by delivery state",
    description="The messages referral-api writes to the referrer (and so the GP record) when a "
    "referral is accepted, declined, closed or cancelled by the service, by state (pending, "
    "sent, failing, undeliverable; default: every state but sent) and referring organisation "
    "(`requester`, ODS code), with "
    "attempts and the last error. Only messages of referrals the caller's organisation sent or "
    "received.",
)
async def list_messages(
    session: ReadSessionDep,
    caller: ReadCaller,
    state: States = None,
    requester: Requesters = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    total, items = await service.messages_by_state(
        session, state, requester, limit, offset, Reach.of(caller)
    )
    await trail.record(
        session, caller, "search", RESOURCE, returned_ids=[item["id"] for item in items]
    )
    return {"total": total, "items": items}


@router.get(
    "/{message_id}",
    operation_id="readGpMessage",
    summary="One message back to a referrer, with its Bundle",
    description="The message's delivery state and the FHIR message Bundle it sends (the same "
    "Bundle, with the same id, on every attempt). 404 also when its referral is not one the "
    "caller's organisation sent or received.",
)
async def read_message(
    message_id: str, session: ReadSessionDep, caller: ReadCaller
) -> dict[str, Any]:
    message = await service.read_message(session, message_id, Reach.of(caller))
    await trail.record(session, caller, "read", RESOURCE, message_id)
    return message


@router.post(
    "/{message_id}/retry",
    operation_id="retryGpMessage",
    summary="Retry an undelivered message now",
    description="Makes a pending, failing or undeliverable message due at once (after an "
    "endpoint was fixed or configured) and wakes the worker. A delivered message is 409: it is "
    "never sent twice.",
)
async def retry_message(
    message_id: str,
    request: Request,
    background: BackgroundTasks,
    session: SessionDep,
    caller: WriteCaller,
) -> dict[str, Any]:
    message = await service.retry(session, message_id, Reach.of(caller), datetime.now(UTC))
    await trail.record(session, caller, "update", RESOURCE, message_id)
    # Woken once the answer is sent, so after the session committed the retry.
    background.add_task(request.app.state.gp_message_worker.wake)
    return message
