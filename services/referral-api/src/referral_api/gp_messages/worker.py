"""The outbox worker: delivers messages back to the referrer, retrying until each is accepted.

Runs inside referral-api as an app lifecycle, on the shared outbox worker
(`signpost_platform.outbox.worker`). Every replica runs one; rows are claimed so two replicas
never deliver the same message at once. A message is POSTed, as FHIR JSON, to the
endpoint configured for its requester (`endpoints.py`); a 2xx answer delivers it. Every attempt
sends the same Bundle with the same `Bundle.id` (and `X-Request-Id`), so a receiver that sees a
message twice (an answer lost after it was accepted) recognises the repeat. A failure is
retried with exponential backoff and jitter, forever, or after the `Retry-After` a 429 or 503
asks for; a referrer with no endpoint has its messages marked undeliverable and retried on the
same schedule, so they go once an endpoint is configured. Nothing is dropped.
"""

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from referral_api.config import ReferralSettings
from referral_api.gp_messages.endpoints import EndpointDirectory
from referral_api.gp_messages.repository import (
    FAILING,
    UNDELIVERABLE,
    GpMessageRepository,
    StoredMessage,
)
from signpost_platform.background import in_background
from signpost_platform.db import Database
from signpost_platform.outbox import retry_after
from signpost_platform.outbox.worker import OutboxWorker, Schedule, Undelivered

logger = logging.getLogger("referral.gp_messages")

FHIR_JSON = "application/fhir+json"
# How often delivered messages past their retention are cleared.
FORGET_EVERY = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Delivered:
    endpoint: str


class Failed(Undelivered):
    """Why an attempt failed (safe to store and show: no personal data), and what next: the
    message's `state` and the endpoint tried (None: the referrer has none)."""

    def __init__(
        self, state: str, error: str, endpoint: str | None, retry_after: float | None = None
    ) -> None:
        super().__init__(error, retry_after)
        self.state = state
        self.endpoint = endpoint


class GpMessageWorker(OutboxWorker[StoredMessage, Delivered, Failed]):
    """Delivers due messages in batches; woken at once after a retry is asked for, else it
    polls. Every hour it also clears the Bundles delivered past their retention."""

    metric_labels = ("referral", "gp-message")
    log = logger
    failure_message = "message delivery pass failed; will retry"

    def __init__(
        self,
        database: Database,
        settings: ReferralSettings,
        endpoints: EndpointDirectory,
        http: httpx.AsyncClient,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__(
            database, GpMessageRepository, Schedule.from_settings(settings, "gp_message_"), clock
        )
        self.settings = settings
        self.endpoints = endpoints
        self.http = http
        self._forget_at: datetime | None = None

    async def deliver(self, message: StoredMessage) -> Delivered | Failed:
        endpoint = self.endpoints.endpoint_for(message.requester_ods)
        context = {"message_id": message.id, "attempts": message.attempts + 1}
        if endpoint is None:
            logger.info("message to referrer has no endpoint", extra=context)
            return Failed(
                UNDELIVERABLE, f"no endpoint is configured for {message.requester_ods}", None
            )
        result = await self._post(message, endpoint)
        if isinstance(result, Delivered):
            logger.info("message to referrer delivered", extra=context)
        else:
            logger.warning("message to referrer failed", extra={**context, "error": str(result)})
        return result

    async def _post(self, message: StoredMessage, endpoint: str) -> Delivered | Failed:
        headers = {
            "Content-Type": FHIR_JSON,
            "Accept": FHIR_JSON,
            # BaRS: X-Request-Id names the message (the same on every attempt), and
            # X-Correlation-Id the conversation (the referral).
            "X-Request-Id": message.id,
            "X-Correlation-Id": message.referral_id,
        }
        try:
            response = await self.http.post(
                endpoint, content=message.message.encode(), headers=headers
            )
        except httpx.TimeoutException:
            return Failed(FAILING, "the endpoint timed out", endpoint)
        except httpx.HTTPError as error:
            return Failed(FAILING, f"the endpoint is unreachable: {type(error).__name__}", endpoint)
        if 200 <= response.status_code < 300:
            return Delivered(endpoint)
        answered = f"the endpoint answered {response.status_code}"
        if response.status_code in (429, 503):
            return Failed(
                FAILING, answered, endpoint, retry_after(response.headers.get("retry-after"))
            )
        return Failed(FAILING, answered, endpoint)

    async def record_sent(
        self, session: AsyncSession, message: StoredMessage, receipt: Delivered, now: datetime
    ) -> None:
        await GpMessageRepository(session).mark_sent(message.id, receipt.endpoint, now)

    async def record_failed(
        self, session: AsyncSession, message: StoredMessage, failure: Failed, retry_at: datetime
    ) -> None:
        await GpMessageRepository(session).mark_failed(
            message.id, failure.state, str(failure), failure.endpoint, retry_at
        )

    async def after_pass(self) -> None:
        if self._forget_at is None or self.clock() >= self._forget_at:
            await self.forget_delivered()
            self._forget_at = self.clock() + FORGET_EVERY

    async def forget_delivered(self) -> int:
        """Clear the Bundles of messages delivered longer ago than the retention: the person's
        data is not kept in the outbox once the referrer has it."""
        sent_before = self.clock() - timedelta(days=self.settings.gp_message_sent_retention_days)
        async with self.database.sessionmaker() as session, session.begin():
            return await GpMessageRepository(session).forget_sent(sent_before)


def gp_message_lifecycle(
    transport: httpx.AsyncBaseTransport | None = None,
) -> Callable[[FastAPI], Any]:
    """The app lifecycle that runs the worker (or only holds it, when the worker is disabled).

    `transport` replaces the network (tests deliver to an in-process endpoint through it)."""

    @asynccontextmanager
    async def lifecycle(app: FastAPI) -> AsyncIterator[None]:
        settings: ReferralSettings = app.state.settings
        http = httpx.AsyncClient(
            timeout=httpx.Timeout(settings.gp_message_timeout_seconds), transport=transport
        )
        worker = GpMessageWorker(
            app.state.database, settings, EndpointDirectory.from_settings(settings), http
        )
        app.state.gp_message_worker = worker
        work = worker.run_forever if settings.gp_message_worker_enabled else None
        try:
            async with in_background(work, "gp-messages"):
                yield
        finally:
            await http.aclose()

    return lifecycle
