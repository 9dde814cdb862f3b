"""Work that spans features, kept out of the features themselves so none imports another's
service to call it back.

A referral created through REST (`POST /fhir/ServiceRequest`, conditional or not) releases the
updates held for its identifiers exactly as a `new` message does: in the creating transaction,
oldest first, each applied once (`messages.service.release_held`).
"""

from sqlalchemy.ext.asyncio import AsyncSession

from referral_api.messages import service as messages
from referral_api.referrals import service as referrals
from referral_api.referrals.access import Reach
from referral_api.referrals.repository import StoredReferral
from signpost_platform.audit import AuditEvent
from signpost_platform.fhir.search import Token
from signpost_schemas.fhir.gaps import Gap
from signpost_schemas.fhir.service_request import ServiceRequest


async def create_referral(
    session: AsyncSession,
    resource: ServiceRequest,
    if_none_exist: Token | None,
    *,
    reach: Reach,
    gaps: list[Gap],
    settings: messages.Settings,
    event: AuditEvent | None = None,
) -> referrals.CreateOutcome:
    """Create a referral (or find the one `if_none_exist` names) and release its held updates;
    `event` is the create's audit event (`referrals.create`). `session` is the request's, not
    yet begun, and the create has it to itself (`referrals.create`, `alone`)."""

    async def release(stored: StoredReferral, arrived: ServiceRequest) -> bool:
        return await messages.release_held(session, arrived, stored.id, settings) > 0

    return await referrals.create(
        session,
        resource,
        if_none_exist,
        reach=reach,
        gaps=gaps,
        linkage_window_days=settings.linkage_window_days,
        after_create=release,
        event=event,
        alone=True,  # the request's write session holds nothing else
    )
