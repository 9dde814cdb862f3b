"""OpenTelemetry traces: W3C `traceparent` in, a server span per request, `traceparent` out.

Every request runs in a server span continuing the caller's trace; outbound calls made with
`traced_client()` carry the current trace on, so a screening → referral hand-off is one trace.
Spans are recorded and exported only when an exporter is configured (`OTEL_EXPORTER_OTLP_ENDPOINT`
with the `opentelemetry-exporter-otlp` package installed); otherwise a request's span is only
carried on (a span id of its own in the caller's trace, or in a new one), which costs a request
a fraction of what a recorded span does.
"""

import logging
import os
from contextlib import AbstractContextManager
from typing import Any

import httpx
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.trace import NonRecordingSpan, Span, SpanContext, SpanKind, TraceFlags
from starlette.types import Scope

logger = logging.getLogger("signpost.tracing")
_configured = False
# Whether spans are recorded (an exporter is installed): set once per process.
_recording = False
_ids = RandomIdGenerator()


def configure_tracing(service: str) -> None:
    """Install a tracer provider and an OTLP exporter, once per process, when one is configured."""
    global _configured, _recording
    if _configured:
        return
    _configured = True
    if not os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        return
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    except ImportError:
        logger.warning(
            "OTEL_EXPORTER_OTLP_ENDPOINT is set but opentelemetry-exporter-otlp "
            "is not installed: spans are not exported"
        )
        return
    provider = TracerProvider(resource=Resource.create({"service.name": f"signpost-{service}"}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    _recording = True


def carried_span(parent: SpanContext) -> AbstractContextManager[Span]:
    """A server span that is carried on but not recorded, made current: the caller's trace (or a
    new one) with a span id of its own, flagged sampled unless the caller's was not (as the
    SDK's default sampler, ParentBased(ALWAYS_ON), flags a recorded span)."""
    if parent.is_valid:
        trace_id, flags, state = parent.trace_id, parent.trace_flags, parent.trace_state
    else:
        trace_id, flags, state = _ids.generate_trace_id(), TraceFlags(TraceFlags.SAMPLED), None
    context = SpanContext(
        trace_id, _ids.generate_span_id(), is_remote=False, trace_flags=flags, trace_state=state
    )
    return trace.use_span(NonRecordingSpan(context))


def server_span(
    tracer: trace.Tracer, scope: Scope, headers: dict[str, str]
) -> AbstractContextManager[Span]:
    """The request's server span, made current: continuing the trace its `headers` (lower-case
    names) carry; recorded by `tracer` only when spans are exported (`carried_span` if not)."""
    context = propagate.extract(headers)
    if not _recording:
        return carried_span(trace.get_current_span(context).get_span_context())
    return tracer.start_as_current_span(
        f"{scope['method']} {scope['path']}",
        context=context,
        kind=SpanKind.SERVER,
        attributes={"http.request.method": scope["method"]},
    )


def trace_headers(span: Span, status: int) -> list[tuple[bytes, bytes]]:
    """The headers that carry the current trace to the caller (`traceparent`), `status` noted
    on `span`."""
    span.set_attribute("http.response.status_code", status)
    outgoing: dict[str, str] = {}
    propagate.inject(outgoing)
    return [(k.encode(), v.encode()) for k, v in outgoing.items()]


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
