"""The curation reports."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from directory_api.services.query import months_before
from directory_api.services.repository import ServiceRepository


async def unassured(session: AsyncSession, months: int) -> dict[str, Any]:
    """Live services never assured, or last assured before the same day `months` ago."""
    cutoff = months_before(datetime.now(UTC).date(), months)
    rows = await ServiceRepository(session).unassured(cutoff)
    return {
        "months": months,
        "assured_before": cutoff.isoformat(),
        "total": len(rows),
        "services": [
            {
                "id": service_id,
                "name": name,
                **({"assured_date": assured.isoformat()} if assured else {}),
            }
            for service_id, name, assured, _ in rows
        ],
    }
