"""OpenTelemetry traces: W3C `traceparent` in, a server span per request, `traceparent` out.

Every request runs in a server span continuing the caller's trace; outbound calls made with
`traced_client()` carry the current trace on, so a screening → referral hand-off is one trace.
The OpenTelemetry SDK makes the spans (recorded, sampled as configured) when they are exported
(`OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, with the
`opentelemetry-exporter-otlp` package installed) or a sampler is configured
(`OTEL_TRACES_SAMPLER`); otherwise a request's span is only carried on (a span id of its own in
the caller's trace, or in a new one), which costs a request a fraction of what a recorded span
does.
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
# Whether spans are made by the SDK (recorded, sampled as configured): set once per process.
_recording = False
_ids = RandomIdGenerator()
# Where spans are exported to (the OTLP exporter reads either).
_EXPORT_SETTINGS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")


def configure_tracing(service: str) -> None:
    """Install the SDK's tracer provider once per process, with an OTLP exporter, when spans are
    exported or a sampler is configured (`OTEL_TRACES_SAMPLER`); otherwise spans are carried
    (`carried_span`)."""
    global _configured, _recording
    if _configured:
        return
    _configured = True
    exported = any(os.environ.get(name) for name in _EXPORT_SETTINGS)
    if not exported and not os.environ.get("OTEL_TRACES_SAMPLER"):
        return
    provider = TracerProvider(resource=Resource.create({"service.name": f"signpost-{service}"}))
    if exported:
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        except ImportError:
            logger.warning(
                "an OTLP endpoint is set but opentelemetry-exporter-otlp is not installed: "
                "spans are not exported"
            )
        else:
            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    _recording = True


# The flags the SDK's default sampler, ParentBased(ALWAYS_ON), gives a span: sampled unless its
# parent was not, and "random trace id" where the trace id was made at random.
_KEPT_FLAGS = TraceFlags.SAMPLED | TraceFlags.RANDOM_TRACE_ID
_NEW_TRACE_FLAGS = TraceFlags(TraceFlags.SAMPLED | TraceFlags.RANDOM_TRACE_ID)


def carried_span(parent: SpanContext) -> AbstractContextManager[Span]:
    """A server span that is carried on but not recorded, made current: the caller's trace (or a
    new one) with a span id of its own, flagged as the SDK's default sampler flags a span."""
    if parent.is_valid:
        trace_id, state = parent.trace_id, parent.trace_state
        flags = TraceFlags(parent.trace_flags & _KEPT_FLAGS)
    else:
        trace_id, flags, state = _ids.generate_trace_id(), _NEW_TRACE_FLAGS, None
    context = SpanContext(
        trace_id, _ids.generate_span_id(), is_remote=False, trace_flags=flags, trace_state=state
    )
    return trace.use_span(NonRecordingSpan(context))


def server_span(
    tracer: trace.Tracer, scope: Scope, headers: dict[str, str]
) -> AbstractContextManager[Span]:
    """The request's server span, made current: continuing the trace its `headers` (lower-case
    names) carry; made by `tracer` when the SDK makes spans (`carried_span` if not)."""
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
