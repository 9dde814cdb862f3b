"""Long-running jobs with a heartbeat: one run at a time, a stopped run taken over.

A job row carries `status`, `attempt` (which run owns it) and `updated_at` (the heartbeat,
moved on with every committed batch). Each run writes only while its `attempt` is the job's:
a run taken for stopped and resumed by another finds its next write refused and stops, so two
runs never write beside each other. A `running` job whose heartbeat is older than the stale
timeout has stopped (its process died) and may be claimed again. directory-api's bulk imports
and referral-api's bulk exports keep their jobs this way.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, update
from sqlalchemy.ext.asyncio import AsyncSession


async def update_if_current(
    session: AsyncSession, table: Any, job_id: str, attempt: int, values: dict[str, Any]
) -> bool:
    """Update the job if `attempt` is still its current run; False if another run took it (or
    the job is gone)."""
    result = await session.execute(
        update(table).where(table.id == job_id, table.attempt == attempt).values(**values)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def claim(
    session: AsyncSession,
    table: Any,
    job_id: str,
    attempt: int,
    stale_before: datetime,
    now: datetime,
    *,
    claimable: tuple[str, ...] = ("failed",),
    values: dict[str, Any] | None = None,
) -> bool:
    """Start the job's next run if its status is one of `claimable`, or it is `running` with a
    heartbeat older than `stale_before`, and nobody claimed it since it was read at `attempt`.
    `values` are written with the claim (besides status, attempt and heartbeat)."""
    result = await session.execute(
        update(table)
        .where(
            table.id == job_id,
            table.attempt == attempt,
            or_(
                table.status.in_(claimable),
                and_(table.status == "running", table.updated_at < stale_before),
            ),
        )
        .values(status="running", attempt=attempt + 1, updated_at=now, **(values or {}))
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
