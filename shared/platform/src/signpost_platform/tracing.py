"""OpenTelemetry traces: W3C `traceparent` in, a server span per request, `traceparent` out.

Every request runs in a server span continuing the caller's trace; outbound calls made with
`traced_client()` carry the current trace on, so a screening → referral hand-off is one trace.
Spans are exported only when an exporter is configured (`OTEL_EXPORTER_OTLP_ENDPOINT` with the
`opentelemetry-exporter-otlp` package installed); otherwise they only propagate.
"""

import logging
import os
from typing import Any

import httpx
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from signpost_platform.middleware import HttpMiddleware, on_response_start

logger = logging.getLogger("signpost.tracing")
_configured = False


def configure_tracing(service: str) -> None:
    """Install a tracer provider once per process (and an OTLP exporter if configured)."""
    global _configured
    if _configured:
        return
    provider = TracerProvider(resource=Resource.create({"service.name": f"signpost-{service}"}))
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        except ImportError:
            logger.warning(
                "OTEL_EXPORTER_OTLP_ENDPOINT is set but opentelemetry-exporter-otlp "
                "is not installed: spans are not exported"
            )
        else:
            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    _configured = True


class TracingMiddleware(HttpMiddleware):
    def __init__(self, app: ASGIApp, service: str) -> None:
        super().__init__(app)
        self.tracer = trace.get_tracer(f"signpost.{service}")

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        carrier = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        context = propagate.extract(carrier)
        with self.tracer.start_as_current_span(
            f"{scope['method']} {scope['path']}", context=context, kind=SpanKind.SERVER
        ) as span:
            span.set_attribute("http.request.method", scope["method"])

            def add_trace(message: Message) -> None:
                span.set_attribute("http.response.status_code", message["status"])
                outgoing: dict[str, str] = {}
                propagate.inject(outgoing)
                message["headers"] = [
                    *message.get("headers", []),
                    *((k.encode(), v.encode()) for k, v in outgoing.items()),
                ]

            await self.app(scope, receive, on_response_start(send, add_trace))


async def _inject_trace(request: httpx.Request) -> None:
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    request.headers.update(carrier)


def traced_client(**kwargs: Any) -> httpx.AsyncClient:
    """An httpx client whose requests carry the current trace (`traceparent`)."""
    hooks = kwargs.pop("event_hooks", {})
    hooks.setdefault("request", []).append(_inject_trace)
    return httpx.AsyncClient(event_hooks=hooks, **kwargs)


def current_trace_id() -> str | None:
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None
