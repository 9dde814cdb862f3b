"""Prometheus metrics: request rate, latency and errors per route, plus service-specific gauges.

`GET /metrics` serves the text exposition format. With several uvicorn workers set
`PROMETHEUS_MULTIPROC_DIR` to an empty writable folder so the workers' figures are aggregated.
Services add their own metrics (outbox depth and age, ingest lag) with `prometheus_client`.
"""

import os
from typing import Any

from fastapi import APIRouter
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client import REGISTRY as DEFAULT_REGISTRY
from starlette.responses import Response
from starlette.types import Scope

from signpost_platform.routing import CheckedRoute

REQUESTS = Counter(
    "signpost_http_requests_total",
    "HTTP requests answered",
    ["service", "method", "route", "status"],
)
LATENCY = Histogram(
    "signpost_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["service", "method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
ERRORS = Counter(
    "signpost_http_server_errors_total", "HTTP requests answered with a 5xx", ["service", "route"]
)

# Cross-service hand-offs waiting in an outbox (screening → referral): how many, and how long
# the oldest has waited. Every worker reads the same table, so processes report the maximum.
OUTBOX_DEPTH = Gauge(
    "signpost_outbox_depth",
    "Undelivered outbox entries",
    ["service", "outbox"],
    multiprocess_mode="max",
)
OUTBOX_OLDEST_AGE = Gauge(
    "signpost_outbox_oldest_age_seconds",
    "Age of the oldest undelivered outbox entry",
    ["service", "outbox"],
    multiprocess_mode="max",
)
# Time from a sender's message timestamp to its processing (EMIS, Rio, imports).
INGEST_LAG = Histogram(
    "signpost_ingest_lag_seconds",
    "Seconds from a message's timestamp to its processing",
    ["service", "source_system"],
    buckets=(1, 5, 30, 60, 300, 900, 3600, 6 * 3600, 24 * 3600, 7 * 24 * 3600),
)

# How the update messages tried without a lock ended (referral-api, docs/lifecycle.md): applied,
# a resend answered, or gone the locked way, and why (`outcome`).
UNLOCKED_MESSAGES = Counter(
    "signpost_unlocked_messages_total",
    "Update messages tried without a lock, by how the try ended",
    ["service", "outcome"],
)

router = APIRouter(route_class=CheckedRoute, tags=["health"])


@router.get(
    "/metrics",
    operation_id="metrics",
    description="Request counts and latencies by route and status, and the service's own "
    "counters, in the Prometheus text format.",
    summary="Prometheus metrics",
    include_in_schema=True,
)
async def metrics() -> Response:
    registry = DEFAULT_REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


# Each (service, method, route template, status)'s children of REQUESTS and LATENCY: `labels()`
# finds them again on every call, under a lock, which cost a read about 2% of its instructions.
# As many as the label values the metrics hold anyway.
_children: dict[tuple[str, str, str, int], tuple[Any, Any]] = {}


def record_request(service: str, scope: Scope, status: int, seconds: float) -> None:
    """Count and time a request by its route template (never by raw path or query)."""
    route = getattr(scope.get("route"), "path", None) or "unmatched"
    method = scope["method"]
    key = (service, method, route, status)
    children = _children.get(key)
    if children is None:
        children = _children[key] = (
            REQUESTS.labels(service, method, route, str(status)),
            LATENCY.labels(service, method, route),
        )
    children[0].inc()
    children[1].observe(seconds)
    if status >= 500:
        ERRORS.labels(service, route).inc()
