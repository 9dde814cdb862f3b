"""The outbox worker: delivers referral hand-offs to referral-api and reads their status back.

Runs inside screening-api as an app lifecycle. Every replica runs one; rows are claimed so two
replicas never deliver the same row at once, and a delivery is a conditional create on an
identifier derived from the response, so even a delivery repeated after a crash (lease expiry)
cannot create a second referral. Failures are retried with exponential backoff and jitter,
forever: the person is never dropped, and the row shows `failing` with the last error.
"""

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from screening_api.config import ScreeningSettings
from screening_api.handoff.client import CreatedReferral, DeliveryError, ReferralApi
from screening_api.handoff.repository import Handoff, HandoffRepository
from signpost_platform.background import in_background
from signpost_platform.db import Database
from signpost_platform.outbox.worker import OutboxWorker, Schedule
from signpost_schemas import systems
from signpost_schemas.fhir import profiles

logger = logging.getLogger("screening.handoff")

CLOSED_STATUSES = frozenset({"completed", "revoked", "entered-in-error"})


def referral_progress(resource: dict[str, Any]) -> tuple[str, bool, bool]:
    """(status, accepted, closed) of a referral as referral-api serves it.

    Accepted: the receiving service accepted it (the lifecycle's acceptedOn), a person was
    named as performer, or it reached completed. The receiving organisation that the hand-off
    itself names as performer is not acceptance. Closed: completed, revoked or entered in error.
    """
    status = str(resource.get("status", "unknown"))
    lifecycle = [
        part
        for extension in resource.get("extension", [])
        if extension.get("url") == profiles.REFERRAL_LIFECYCLE_EXTENSION
        for part in extension.get("extension", [])
    ]
    accepted = (
        status == "completed"
        or any(part.get("url") == "acceptedOn" for part in lifecycle)
        or any(_names_a_person(performer) for performer in resource.get("performer", []))
    )
    return status, accepted, status in CLOSED_STATUSES


def _names_a_person(performer: dict[str, Any]) -> bool:
    """A performer other than an organisation (a practitioner or a role has taken it on)."""
    if performer.get("type") == "Organization":
        return False
    identifier = performer.get("identifier") or {}
    if systems.normalise_system(str(identifier.get("system", ""))) == systems.ODS_ORGANIZATION:
        return False
    return not str(performer.get("reference", "")).startswith("Organization/")


class HandoffWorker(OutboxWorker[Handoff, CreatedReferral, DeliveryError]):
    """Delivers due hand-offs in batches; woken at once after a submission, else it polls.
    After every pass it reads back the status of delivered referrals due a check."""

    metric_labels = ("screening", "referral-handoff")
    log = logger
    failure_message = "hand-off pass failed; will retry"

    def __init__(
        self,
        database: Database,
        settings: ScreeningSettings,
        api: ReferralApi,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__(
            database, HandoffRepository, Schedule.from_settings(settings, "handoff_"), clock
        )
        self.settings = settings
        self.api = api

    async def deliver(self, handoff: Handoff) -> CreatedReferral | DeliveryError:
        """The referral created (or found) in referral-api, or the error that stopped it."""
        identifier = (handoff.identifier_system, handoff.identifier_value)
        attempts = handoff.attempts + 1
        try:
            if handoff.request.startswith('{"resourceType":"Bundle"'):
                created = await self.api.send_message(handoff.request)
            else:  # a row written before hand-offs became messages: a plain ServiceRequest
                created = await self.api.create_referral(handoff.request, identifier)
        except DeliveryError as error:
            logger.warning(
                "referral hand-off failed",
                extra={
                    "response_id": handoff.response_id,
                    "attempts": attempts,
                    "error": str(error),
                },
            )
            return error
        logger.info(
            "referral hand-off delivered",
            extra={
                "response_id": handoff.response_id,
                "referral_id": created.id,
                "attempts": attempts,
            },
        )
        return created

    async def record_sent(
        self, session: AsyncSession, handoff: Handoff, created: CreatedReferral, now: datetime
    ) -> None:
        await HandoffRepository(session).mark_sent(
            handoff.response_id, created.id, created.status, now
        )

    async def record_failed(
        self, session: AsyncSession, handoff: Handoff, error: DeliveryError, retry_at: datetime
    ) -> None:
        await HandoffRepository(session).mark_failed(handoff.response_id, str(error), retry_at)

    async def after_pass(self) -> None:
        await self.refresh_statuses()

    async def refresh_statuses(self) -> None:
        """Read back the status of delivered referrals that are due a check."""
        now = self.clock()
        stale_before = now - timedelta(seconds=self.settings.referral_status_refresh_seconds)
        async with self.database.sessionmaker() as session, session.begin():
            due = await HandoffRepository(session).claim_status_checks(
                now, stale_before, self.settings.handoff_batch_size
            )
        for handoff in due:
            assert handoff.referral_id is not None
            try:
                resource = await self.api.read_referral(handoff.referral_id)
            except DeliveryError as error:
                logger.warning(
                    "referral status check failed",
                    extra={"response_id": handoff.response_id, "error": str(error)},
                )
                continue
            status, accepted, closed = referral_progress(resource)
            async with self.database.sessionmaker() as session, session.begin():
                await HandoffRepository(session).record_status(
                    handoff.response_id, status, accepted, closed
                )


def handoff_lifecycle(
    transport: httpx.AsyncBaseTransport | None = None,
) -> Callable[[FastAPI], Any]:
    """The app lifecycle that runs the worker (or only holds it, when the worker is disabled)."""

    @asynccontextmanager
    async def lifecycle(app: FastAPI) -> AsyncIterator[None]:
        settings: ScreeningSettings = app.state.settings
        api = ReferralApi(settings, transport)
        worker = HandoffWorker(app.state.database, settings, api)
        app.state.handoff_worker = worker
        work = worker.run_forever if settings.handoff_worker_enabled else None
        try:
            async with in_background(work, "referral-handoff"):
                yield
        finally:
            await api.close()

    return lifecycle
