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
import re
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from typing import Any, NamedTuple, Protocol

import httpx
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.trace import (
    NonRecordingSpan,
    Span,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
    TraceState,
)
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
    (`carried_trace`)."""
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


class ServerTrace(Protocol):
    """The trace a request runs in, as its envelope sees it."""

    def answer_headers(self, status: int) -> list[tuple[bytes, bytes]]:
        """The headers that carry the trace back to the caller (`traceparent`, and `tracestate`
        where the caller sent one), `status` noted on a recorded span."""
        ...

    def failed(self, error: BaseException) -> None:
        """Note that the request failed with `error` (on a recorded span)."""
        ...


def _w3c_alone() -> bool:
    """Whether the configured propagators (`OTEL_PROPAGATORS`; W3C trace context and baggage
    by default) carry a trace by W3C trace context alone."""
    configured = os.environ.get("OTEL_PROPAGATORS", "tracecontext,baggage")
    names = {name.strip().lower() for name in configured.split(",")}
    return "tracecontext" in names and names <= {"tracecontext", "baggage"}


# Read once, as OpenTelemetry reads its propagators once, when it is first imported.
_W3C_ALONE = _w3c_alone()
# A `traceparent` of version 00 as nearly every caller sends it; any other is read by
# OpenTelemetry's propagators.
_COMMON_TRACEPARENT = re.compile(r"00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")


class CarriedTrace(NamedTuple):
    """A request's span when spans are not recorded: the caller's trace (or a new one) and a
    span id of its own, flagged as the SDK's default sampler flags a span."""

    trace_id: int
    span_id: int
    flags: int
    state: TraceState | None  # the caller's `tracestate`

    def headers(self) -> dict[str, str]:
        """What OpenTelemetry's W3C propagator writes for this span: `traceparent`, and
        `tracestate` where the caller sent one."""
        headers = {"traceparent": self._traceparent()}
        if self.state:
            headers["tracestate"] = self.state.to_header()
        return headers

    def answer_headers(self, status: int) -> list[tuple[bytes, bytes]]:
        if self.state:
            return [(k.encode(), v.encode()) for k, v in self.headers().items()]
        return [(b"traceparent", self._traceparent().encode())]

    def _traceparent(self) -> str:
        return f"00-{self.trace_id:032x}-{self.span_id:016x}-{self.flags:02x}"

    def failed(self, error: BaseException) -> None:
        pass  # nothing is recorded


def carried_trace(headers: dict[str, str]) -> CarriedTrace:
    """The span a request carries on when spans are not recorded: in the trace its `headers`
    (lower-case names) carry, read as the configured propagators read them, or in a new one.

    The common case, a version 00 `traceparent` alone (or none) under the default
    propagators, is read here; OpenTelemetry's reading of it makes a context, a span and a
    span context, about 2% of a read's instructions."""
    traceparent = headers.get("traceparent")
    common = _COMMON_TRACEPARENT.fullmatch(traceparent) if traceparent else None
    parent: tuple[int, int, TraceState | None] | None
    if _W3C_ALONE and traceparent is None:
        parent = None
    elif _W3C_ALONE and common is not None and "tracestate" not in headers:
        trace_id, span_id = int(common[1], 16), int(common[2], 16)
        parent = (trace_id, int(common[3], 16), None) if trace_id and span_id else None
    else:
        found = trace.get_current_span(propagate.extract(headers)).get_span_context()
        parent = (found.trace_id, found.trace_flags, found.trace_state) if found.is_valid else None
    if parent is None:
        return CarriedTrace(
            _ids.generate_trace_id(), _ids.generate_span_id(), _NEW_TRACE_FLAGS, None
        )
    trace_id, flags, state = parent
    return CarriedTrace(trace_id, _ids.generate_span_id(), flags & _KEPT_FLAGS, state)


# The carried span of the request running, when it travels by W3C trace context alone: made
# current here rather than in OpenTelemetry's context, which costs a request several times as
# much, and sent on as OpenTelemetry would send it. OpenTelemetry's current span is then not set:
# the trace is read through `current_trace_id` and sent on by `traced_client`, not through
# OpenTelemetry's API (the services do not import it: pyproject.toml's import contracts).
# `OTEL_PROPAGATORS` is read when the process starts; propagators set later in code are not.
_carried: ContextVar[CarriedTrace | None] = ContextVar("signpost_carried_trace", default=None)


class _Carrying:
    """A `CarriedTrace` made current for the request (and the tasks it starts)."""

    __slots__ = ("span", "token")

    def __init__(self, span: CarriedTrace) -> None:
        self.span = span

    def __enter__(self) -> CarriedTrace:
        self.token = _carried.set(self.span)
        return self.span

    def __exit__(self, *exc_info: object) -> None:
        _carried.reset(self.token)


class _RecordedTrace:
    """A span the SDK records."""

    __slots__ = ("span",)

    def __init__(self, span: Span) -> None:
        self.span = span

    def answer_headers(self, status: int) -> list[tuple[bytes, bytes]]:
        self.span.set_attribute("http.response.status_code", status)
        outgoing: dict[str, str] = {}
        propagate.inject(outgoing)
        return [(k.encode(), v.encode()) for k, v in outgoing.items()]

    def failed(self, error: BaseException) -> None:
        self.span.record_exception(error)
        self.span.set_status(Status(StatusCode.ERROR))


@contextmanager
def _recorded(tracer: trace.Tracer, scope: Scope, headers: dict[str, str]) -> Iterator[ServerTrace]:
    with tracer.start_as_current_span(
        f"{scope['method']} {scope['path']}",
        context=propagate.extract(headers),
        kind=SpanKind.SERVER,
        attributes={"http.request.method": scope["method"]},
    ) as span:
        yield _RecordedTrace(span)


@contextmanager
def _carried_by_opentelemetry(headers: dict[str, str]) -> Iterator[ServerTrace]:
    """A `CarriedTrace` made current in OpenTelemetry's context, for the configured
    propagators to send on (when they are not W3C trace context alone)."""
    carried = carried_trace(headers)
    context = SpanContext(
        carried.trace_id,
        carried.span_id,
        is_remote=False,
        trace_flags=TraceFlags(carried.flags),
        trace_state=carried.state,
    )
    with trace.use_span(NonRecordingSpan(context)) as span:
        yield _RecordedTrace(span)


def server_span(
    tracer: trace.Tracer, scope: Scope, headers: dict[str, str]
) -> AbstractContextManager[ServerTrace]:
    """The request's server span, made current: continuing the trace its `headers` (lower-case
    names) carry; made by `tracer` when the SDK makes spans, else carried on (a
    `CarriedTrace`)."""
    if _recording:
        return _recorded(tracer, scope, headers)
    if _W3C_ALONE:
        return _Carrying(carried_trace(headers))
    return _carried_by_opentelemetry(headers)


async def _inject_trace(request: httpx.Request) -> None:
    carried = _carried.get()
    if carried is not None:
        request.headers.update(carried.headers())
        return
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    request.headers.update(carrier)


def traced_client(**kwargs: Any) -> httpx.AsyncClient:
    """An httpx client whose requests carry the current trace (`traceparent`)."""
    hooks = kwargs.pop("event_hooks", {})
    hooks.setdefault("request", []).append(_inject_trace)
    return httpx.AsyncClient(event_hooks=hooks, **kwargs)


def current_trace_id() -> str | None:
    carried = _carried.get()
    if carried is not None:
        return f"{carried.trace_id:032x}"
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None
