"""The outbox worker: delivers referral hand-offs to referral-api and reads their status back.

Runs inside screening-api as an app lifecycle. Every replica runs one; rows are claimed so two
replicas never deliver the same row at once, and a delivery is a conditional create on an
identifier derived from the response, so even a delivery repeated after a crash (lease expiry)
cannot create a second referral. Failures are retried with exponential backoff and jitter,
forever: the person is never dropped, and the row shows `failing` with the last error.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from screening_api.config import ScreeningSettings
from screening_api.handoff.client import CreatedReferral, DeliveryError, ReferralApi, Throttled
from screening_api.handoff.repository import Handoff, HandoffRepository
from signpost_platform.background import in_background
from signpost_platform.db import Database
from signpost_platform.metrics import OUTBOX_DEPTH, OUTBOX_OLDEST_AGE
from signpost_platform.outbox import backoff
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


class HandoffWorker:
    """Delivers due hand-offs in batches; woken at once after a submission, else it polls."""

    def __init__(
        self,
        database: Database,
        settings: ScreeningSettings,
        api: ReferralApi,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.database = database
        self.settings = settings
        self.api = api
        self.clock = clock
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Deliver now rather than at the next poll (called after a submission commits)."""
        self._wake.set()

    async def run_forever(self) -> None:
        while True:
            try:
                busy = await self.deliver_due()
                await self.refresh_statuses()
                await self.observe_backlog()
            except Exception:  # the loop must outlive any one failure (database restart, ...)
                logger.exception("hand-off pass failed; will retry")
                busy = False
            if busy:
                continue
            woken = False
            with contextlib.suppress(TimeoutError):
                woken = await asyncio.wait_for(
                    self._wake.wait(), self.settings.handoff_poll_seconds
                )
            self._wake.clear()
            if woken:
                # Let submissions arriving together be delivered as one batch.
                await asyncio.sleep(self.settings.handoff_linger_seconds)

    async def observe_backlog(self) -> None:
        """Publish the outbox depth and the age of its oldest entry as metrics."""
        async with self.database.sessionmaker() as session:
            depth, oldest = await HandoffRepository(session).backlog()
        OUTBOX_DEPTH.labels("screening", "referral-handoff").set(depth)
        age = (self.clock() - oldest).total_seconds() if oldest else 0.0
        OUTBOX_OLDEST_AGE.labels("screening", "referral-handoff").set(max(age, 0.0))

    async def deliver_due(self) -> bool:
        """Deliver one batch of due hand-offs; True if the batch was full (more may be due)."""
        settings = self.settings
        async with self.database.sessionmaker() as session, session.begin():
            claimed = await HandoffRepository(session).claim_due(
                self.clock(),
                settings.handoff_batch_size,
                timedelta(seconds=settings.handoff_lease_seconds),
            )
        if not claimed:
            return False
        results = await asyncio.gather(*(self._deliver(handoff) for handoff in claimed))
        # One transaction records the whole batch.
        async with self.database.sessionmaker() as session, session.begin():
            repository = HandoffRepository(session)
            for handoff, result in zip(claimed, results, strict=True):
                if isinstance(result, CreatedReferral):
                    await repository.mark_sent(
                        handoff.response_id, result.id, result.status, self.clock()
                    )
                    continue
                # Asked to slow down: come back when told, without backing off further.
                delay = (
                    result.retry_after
                    if isinstance(result, Throttled)
                    else backoff(
                        handoff.attempts + 1,
                        settings.handoff_backoff_base_seconds,
                        settings.handoff_backoff_max_seconds,
                    )
                )
                await repository.mark_failed(
                    handoff.response_id, str(result), self.clock() + timedelta(seconds=delay)
                )
        return len(claimed) == settings.handoff_batch_size

    async def _deliver(self, handoff: Handoff) -> CreatedReferral | DeliveryError:
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
