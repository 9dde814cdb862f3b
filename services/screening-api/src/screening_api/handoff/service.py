"""The hand-offs as support staff read them: by state, or the one of a screening response."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from screening_api.access import Reach
from screening_api.handoff.repository import STATES, Handoff, HandoffRepository
from signpost_platform.errors import BadRequest, NotFound
from signpost_platform.fhir.responses import instant
from signpost_platform.outbox.table import delivery_view


def _view(handoff: Handoff) -> dict[str, Any]:
    view: dict[str, Any] = {
        "response_id": handoff.response_id,
        **delivery_view(handoff),
        "referral_id": handoff.referral_id,
        "sent_at": instant(handoff.sent_at) if handoff.sent_at else None,
        "referral_status": handoff.referral_status,
        "referral_accepted": handoff.referral_accepted,
        "referral_closed": handoff.referral_closed,
    }
    return {key: value for key, value in view.items() if value is not None}


async def handoffs_by_state(
    session: AsyncSession, states: list[str], limit: int, offset: int, reach: Reach
) -> tuple[int, list[dict[str, Any]]]:
    """How many hand-offs within `reach` are in `states`, and a page of them as served."""
    if unknown := [s for s in states if s not in STATES]:
        raise BadRequest(
            f"unknown state {unknown[0]!r}: use pending, sent or failing", expression="state"
        )
    total, rows = await HandoffRepository(session).by_state(states, limit, offset, reach)
    return total, [_view(row) for row in rows]


async def read_handoff(session: AsyncSession, response_id: str, reach: Reach) -> dict[str, Any]:
    """The hand-off of one screening response, as served; 404 when there is none within
    `reach`."""
    handoff = await HandoffRepository(session).get(response_id, reach)
    if handoff is None:
        raise NotFound(f"no referral hand-off for response {response_id}", expression="response_id")
    return _view(handoff)
