"""Security headers, per-client rate limits, metrics and trace propagation on a real service."""

import re

import httpx
from fastapi import APIRouter, FastAPI, Request

from referral_api.config import ReferralSettings
from referral_api.main import create_app
from signpost_platform.routing import CheckedRoute
from signpost_platform.tracing import traced_client
from tests.support.clients import bearer, platform_app, running

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


async def test_every_response_carries_security_headers(client):
    response = await client.get("/fhir/metadata")

    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert "access-control-allow-origin" not in response.headers


async def test_a_client_over_its_rate_limit_gets_429_with_retry_after(referral_database):
    # One request a minute refills the bucket: however slow the machine, none refills mid-test.
    settings = ReferralSettings(
        database_url=referral_database, rate_limit_per_minute=1, rate_limit_burst=3
    )
    app = create_app(settings)
    busy, other = bearer("referral:read"), bearer("referral:read", ods="Y01234")
    async with running(app, "http://referral.test") as client:
        statuses = [
            (await client.get("/fhir/metadata", headers=busy)).status_code for _ in range(5)
        ]
        limited = await client.get("/fhir/metadata", headers=busy)
        someone_else = await client.get("/fhir/metadata", headers=other)
        health = await client.get("/_ping", headers=busy)

    assert statuses[:3] == [200, 200, 200]
    assert statuses[3:] == [429, 429]
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1
    assert limited.json()["issue"][0]["code"] == "throttled"
    assert someone_else.status_code == 200
    assert health.status_code == 200


def _counted(metrics: str, method: str, route: str, status: int) -> bool:
    """Whether `metrics` counts at least one request of `method` to `route` answered `status`."""
    labels = f'method="{method}",route="{route}",service="referral",status="{status}"'
    return (
        re.search(rf"signpost_http_requests_total\{{{re.escape(labels)}\}} [1-9]", metrics)
        is not None
    )


async def test_metrics_count_requests_by_route_template(client):
    await client.get("/fhir/ServiceRequest/some-id", headers=bearer("referral:read", ods="Y01234"))

    text = (await client.get("/metrics")).text

    assert _counted(text, "GET", "/fhir/ServiceRequest/{referral_id}", 404), text[:2000]
    latency_histogram = "signpost_http_request_duration_seconds_bucket"
    assert latency_histogram in text
    assert "some-id" not in text


async def test_metrics_count_a_head_request_by_the_route_its_get_matched(client):
    await client.head("/fhir/metadata")

    text = (await client.get("/metrics")).text

    assert _counted(text, "HEAD", "/fhir/metadata", 200), text[:2000]


async def test_trace_context_continues_from_caller_to_response(client):
    response = await client.get("/fhir/metadata", headers={"traceparent": TRACEPARENT})

    assert response.headers["traceparent"].split("-")[1] == "0af7651916cd43dd8448eb211c80319c"


async def test_outbound_calls_carry_the_current_trace(client):
    """A service calling another (screening → referral) passes its trace on."""
    seen = {}
    downstream = FastAPI()

    @downstream.get("/echo")
    async def echo(request: Request):
        seen["traceparent"] = request.headers.get("traceparent")
        return {}

    upstream_router = APIRouter(route_class=CheckedRoute)

    @upstream_router.get("/fhir/call-downstream")
    async def call_downstream():
        async with traced_client(
            transport=httpx.ASGITransport(app=downstream), base_url="http://downstream"
        ) as http:
            await http.get("/echo")
        return {}

    async with running(platform_app(upstream_router), "http://upstream") as http:
        await http.get("/fhir/call-downstream", headers={"traceparent": TRACEPARENT})

    assert seen["traceparent"].split("-")[1] == "0af7651916cd43dd8448eb211c80319c"


async def test_an_unexpected_error_answers_500_with_the_correlation_id_it_asks_to_be_quoted():
    """The 500 carries the envelope (correlation id, trace, security headers) and its log line
    names the correlation id, so the service desk can find the fault the caller quotes."""
    import json
    import logging

    from signpost_platform.logging import JsonFormatter

    broken = APIRouter(route_class=CheckedRoute)

    @broken.get("/fhir/broken")
    async def fail():
        raise RuntimeError("a fault")

    app = platform_app(broken)
    lines: list[str] = []
    handler = logging.Handler()
    handler.setFormatter(JsonFormatter("referral"))
    handler.emit = lambda record: lines.append(handler.format(record))  # type: ignore[method-assign]
    errors = logging.getLogger("signpost.errors")
    errors.addHandler(handler)
    try:
        async with running(app, "http://referral.test") as http:
            response = await http.get(
                "/fhir/broken", headers={"X-Correlation-Id": "fault-1", "traceparent": TRACEPARENT}
            )
    finally:
        errors.removeHandler(handler)

    assert response.status_code == 500
    assert response.json()["resourceType"] == "OperationOutcome"
    assert response.headers.get_list("x-correlation-id") == ["fault-1"]
    assert response.headers["traceparent"].split("-")[1] == "0af7651916cd43dd8448eb211c80319c"
    assert response.headers["x-content-type-options"] == "nosniff"
    [logged] = [json.loads(line) for line in lines if '"unhandled error"' in line]
    assert logged["correlation_id"] == "fault-1"
    assert logged["trace_id"] == "0af7651916cd43dd8448eb211c80319c"
    assert "RuntimeError: a fault" in logged["exception"]


async def test_an_error_answer_carries_the_correlation_id_once(client):
    response = await client.get("/fhir/ServiceRequest/x", headers={"X-Correlation-Id": "once-1"})

    assert response.status_code == 401
    assert response.headers.get_list("x-correlation-id") == ["once-1"]
