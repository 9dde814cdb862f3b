"""A request's server span: carried on from the caller (or a new trace) when spans are not
exported, recorded as a SERVER span in the caller's trace when they are."""

import httpx
import pytest
from opentelemetry import propagate, trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from signpost_platform import tracing
from signpost_platform.envelope import RequestEnvelopeMiddleware
from signpost_platform.tracing import current_trace_id

CALLER_TRACE = "0af7651916cd43dd8448eb211c80319c"
CALLER_SPAN = "b7ad6b7169203331"


def _traced_app() -> RequestEnvelopeMiddleware:
    async def echo(request):
        return JSONResponse({"trace_id": current_trace_id()})

    return RequestEnvelopeMiddleware(Starlette(routes=[Route("/echo", echo)]), service="test")


async def _get(app: RequestEnvelopeMiddleware, headers: dict[str, str]) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://traced.test") as http:
        return await http.get("/echo", headers=headers)


@pytest.mark.parametrize("flags", ["01", "00"])
async def test_an_unexported_span_continues_the_callers_trace_with_its_own_span_id(flags):
    response = await _get(
        _traced_app(), {"traceparent": f"00-{CALLER_TRACE}-{CALLER_SPAN}-{flags}"}
    )

    version, trace_id, span_id, answered_flags = response.headers["traceparent"].split("-")
    assert (version, trace_id, answered_flags) == ("00", CALLER_TRACE, flags)
    assert span_id != CALLER_SPAN and int(span_id, 16) != 0
    assert response.json() == {"trace_id": CALLER_TRACE}


async def test_an_unexported_span_without_a_caller_starts_a_sampled_trace():
    app = _traced_app()
    first, second = await _get(app, {}), await _get(app, {})

    _, trace_id, span_id, flags = first.headers["traceparent"].split("-")
    # Sampled, its trace id made at random: as the SDK's default sampler flags a new trace.
    assert int(trace_id, 16) != 0 and int(span_id, 16) != 0 and flags == "03"
    assert first.json() == {"trace_id": trace_id}
    assert second.headers["traceparent"].split("-")[1] != trace_id


async def test_an_exported_span_is_recorded_in_the_callers_trace(monkeypatch):
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    app = _traced_app()
    app.tracer = provider.get_tracer("test")
    monkeypatch.setattr(tracing, "_recording", True)

    response = await _get(app, {"traceparent": f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"})

    (span,) = exporter.get_finished_spans()
    assert span.kind is SpanKind.SERVER
    assert span.name == "GET /echo"
    assert format(span.context.trace_id, "032x") == CALLER_TRACE
    assert format(span.parent.span_id, "016x") == CALLER_SPAN
    assert span.attributes["http.response.status_code"] == 200
    assert response.headers["traceparent"].split("-")[2] == format(span.context.span_id, "016x")


async def test_a_configured_sampler_decides_even_when_nothing_is_exported(monkeypatch):
    installed: list[TracerProvider] = []
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "always_off")
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(tracing, "_configured", False)
    monkeypatch.setattr(tracing, "_recording", False)
    monkeypatch.setattr(tracing.trace, "set_tracer_provider", installed.append)

    tracing.configure_tracing("test")

    (provider,) = installed
    app = _traced_app()
    app.tracer = provider.get_tracer("test")
    response = await _get(app, {})
    assert response.headers["traceparent"].split("-")[3] == "02"  # not sampled


def _read_by_opentelemetry(headers: dict[str, str]):
    """The caller's span as OpenTelemetry's configured propagators read it (None: no trace)."""
    found = trace.get_current_span(propagate.extract(headers)).get_span_context()
    return (found.trace_id, found.trace_flags, found.trace_state) if found.is_valid else None


_SPAN = "b7ad6b7169203331"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"traceparent": f"00-{CALLER_TRACE}-{_SPAN}-01"},
        {"traceparent": f"00-{CALLER_TRACE}-{_SPAN}-00"},
        {"traceparent": f"00-{CALLER_TRACE}-{_SPAN}-ff"},  # flags beyond those kept
        {"traceparent": f"00-{CALLER_TRACE.upper()}-{_SPAN}-01"},  # upper case: invalid
        {"traceparent": f"00-{'0' * 32}-{_SPAN}-01"},  # an invalid trace id
        {"traceparent": f"00-{CALLER_TRACE}-{'0' * 16}-01"},  # an invalid parent id
        {"traceparent": f"ff-{CALLER_TRACE}-{_SPAN}-01"},  # a forbidden version
        {"traceparent": f"00-{CALLER_TRACE}-{_SPAN}-01-extra"},  # version 00 has four fields
        {"traceparent": f"01-{CALLER_TRACE}-{_SPAN}-01-extra"},  # a later version may have more
        {"traceparent": f" \t00-{CALLER_TRACE}-{_SPAN}-01 "},  # spaces around are allowed
        {"traceparent": f"00-{CALLER_TRACE}-{_SPAN}-01" + " " * 500},  # over 512 characters
        {"traceparent": f"00-{CALLER_TRACE}-{_SPAN}"},
        {"traceparent": ""},
        {"traceparent": "garbage"},
        {"traceparent": f"00-{CALLER_TRACE}-{_SPAN}-01", "tracestate": "vendor=a1,other=b2"},
        {"traceparent": f"00-{CALLER_TRACE}-{_SPAN}-01", "tracestate": "not a member"},
        {"tracestate": "vendor=a1"},  # a state without a parent is no trace
    ],
)
def test_a_carried_span_continues_what_opentelemetry_reads_from_the_caller(headers):
    """The request's carried span is read by the service itself in the common case; whatever
    the caller sends, it continues the same trace, flags and state as OpenTelemetry's own
    propagators would read, or starts a new sampled trace where they read none."""
    carried = tracing.carried_trace(headers)

    expected = _read_by_opentelemetry(headers)
    if expected is None:
        assert int(carried.trace_id) not in (0, int(CALLER_TRACE, 16))
        assert (carried.flags, carried.state) == (0x03, None)
    else:
        trace_id, flags, state = expected
        assert (carried.trace_id, carried.flags) == (trace_id, flags & 0x03)
        assert (carried.state or None) == (state or None)
    assert carried.span_id not in (0, int(_SPAN, 16))


async def test_a_carried_span_answers_the_callers_trace_state():
    response = await _get(
        _traced_app(),
        {"traceparent": f"00-{CALLER_TRACE}-{_SPAN}-01", "tracestate": "vendor=a1,other=b2"},
    )

    assert response.headers["traceparent"].split("-")[1] == CALLER_TRACE
    assert response.headers["tracestate"] == "vendor=a1,other=b2"


async def test_other_propagators_carry_the_span_through_opentelemetry(monkeypatch):
    """When the configured propagators are not W3C trace context alone, the carried span is
    made current in OpenTelemetry's context, so that they read and send it."""
    monkeypatch.setattr(tracing, "_W3C_ALONE", False)

    response = await _get(_traced_app(), {"traceparent": f"00-{CALLER_TRACE}-{_SPAN}-01"})

    _, trace_id, span_id, flags = response.headers["traceparent"].split("-")
    assert (trace_id, flags) == (CALLER_TRACE, "01") and span_id != _SPAN
    assert response.json() == {"trace_id": CALLER_TRACE}


@pytest.mark.parametrize(
    ("configured", "alone"),
    [
        (None, True),
        ("tracecontext", True),
        ("tracecontext, baggage", True),
        ("b3", False),
        ("tracecontext,b3multi", False),
        ("none", False),
    ],
)
def test_w3c_trace_context_alone_is_read_from_the_configured_propagators(
    monkeypatch, configured, alone
):
    if configured is None:
        monkeypatch.delenv("OTEL_PROPAGATORS", raising=False)
    else:
        monkeypatch.setenv("OTEL_PROPAGATORS", configured)

    assert tracing._w3c_alone() is alone
