"""Every request's envelope, in one pure ASGI layer, the outermost: its server span (continuing
the caller's trace), its correlation id and access-log line, its metrics, and the headers its
answer carries back (`traceparent`, `X-Correlation-Id` and the security headers), an unexpected
error's 500 included.

One layer rather than one for each: every layer costs each request a call and a wrapped `send`.
"""

import logging
import time

from opentelemetry import trace
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from signpost_platform.errors import route_path, unexpected_error
from signpost_platform.logging import accept_correlation_id, correlation_id
from signpost_platform.metrics import record_request
from signpost_platform.middleware import HttpMiddleware
from signpost_platform.security import security_headers
from signpost_platform.tracing import server_span

access_log = logging.getLogger("signpost.access")


class RequestEnvelopeMiddleware(HttpMiddleware):
    """The correlation id comes from `X-Correlation-Id`, else `X-Request-Id` (BaRS sends both),
    else a new UUID; the access log has one line per request, with its status and duration."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        super().__init__(app)
        self.service = service
        self.tracer = trace.get_tracer(f"signpost.{service}")

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        cid = accept_correlation_id(headers.get("x-correlation-id"), headers.get("x-request-id"))
        path = route_path(scope)
        started = time.perf_counter()
        status = 500
        answered = False
        with server_span(self.tracer, scope, headers) as span:
            token = correlation_id.set(cid)

            async def send_enveloped(message: Message) -> None:
                nonlocal status, answered
                if message["type"] == "http.response.start":
                    answered = True
                    status = message["status"]
                    answer = message.get("headers", [])
                    present = {key.lower() for key, _ in answer}
                    message["headers"] = [
                        *answer,
                        (b"x-correlation-id", cid.encode("latin-1")),
                        *span.answer_headers(status),
                        *security_headers(path, present),
                    ]
                await send(message)

            try:
                await self.app(scope, receive, send_enveloped)
            except Exception as error:
                if answered:  # too late for an answer of its own
                    raise
                # Answered here rather than by Starlette's outermost handler, so that the 500
                # carries the correlation id it asks to be quoted, and its log line names it.
                span.failed(error)
                await unexpected_error(path, error)(scope, receive, send_enveloped)
            finally:
                seconds = time.perf_counter() - started
                record_request(self.service, scope, status, seconds)
                access_log.info(
                    "request",
                    extra={
                        "method": scope["method"],
                        "path": scope["path"],
                        "status": status,
                        "duration_ms": round(seconds * 1000, 2),
                    },
                )
                correlation_id.reset(token)
