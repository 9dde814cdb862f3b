"""A request's server span: carried on from the caller (or a new trace) when spans are not
exported, recorded as a SERVER span in the caller's trace when they are."""

import httpx
import pytest
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
