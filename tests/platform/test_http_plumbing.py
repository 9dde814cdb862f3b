"""Correlation ids, logs without personal data, size limits and error shapes, on a real service."""

import json
import uuid

from signpost_platform.logging import new_correlation_id
from tests.referral.conftest import READ, WRITE
from tests.support.builders import NHS_NUMBERS, service_request


async def test_correlation_id_is_echoed_and_logged(client, capsys):
    response = await client.get(
        "/fhir/metadata", headers={"X-Correlation-Id": "conv-123", "X-Request-Id": "req-9"}
    )

    assert response.headers["x-correlation-id"] == "conv-123"
    lines = [
        json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")
    ]
    access = [line for line in lines if line["logger"] == "signpost.access"]
    assert access[-1]["correlation_id"] == "conv-123"
    assert access[-1]["path"] == "/fhir/metadata"
    assert access[-1]["status"] == 200


async def test_request_id_is_used_when_no_correlation_id_is_sent(client):
    response = await client.get("/fhir/metadata", headers={"X-Request-Id": "req-42"})

    assert response.headers["x-correlation-id"] == "req-42"


async def test_unsafe_correlation_id_is_replaced(client):
    response = await client.get("/fhir/metadata", headers={"X-Correlation-Id": "bad id\nforged"})

    assert response.headers["x-correlation-id"] != "bad id\nforged"
    assert len(response.headers["x-correlation-id"]) == 36


LOCAL = "RIO-000321"  # a person's number in the sender's own system


async def test_logs_never_carry_nhs_numbers_even_when_searched_by_one(client, capsys):
    await client.post("/fhir/ServiceRequest", json=service_request(), headers=WRITE)
    await client.get(f"/fhir/ServiceRequest?patient.identifier={NHS_NUMBERS[0]}", headers=READ)
    await client.post(
        "/fhir/ServiceRequest",
        json=service_request(nhs_number="9434765918", identifier="bad"),
        headers=WRITE,
    )
    local = service_request(identifier="local")
    local["subject"] = {"identifier": {"system": "https://rio.example/patient-id", "value": LOCAL}}
    await client.post("/fhir/ServiceRequest", json=local, headers=WRITE)
    await client.get(
        f"/fhir/ServiceRequest?patient.identifier=https://rio.example/patient-id|{LOCAL}",
        headers=READ,
    )

    output = capsys.readouterr().out
    assert "signpost.access" in output
    for number in (NHS_NUMBERS[0], "9434765918", LOCAL):
        assert number not in output


async def test_chunked_body_over_the_limit_is_413(client):
    async def chunks():
        for _ in range(40):
            yield b"x" * 32_768

    response = await client.post(
        "/fhir/ServiceRequest",
        content=chunks(),
        headers={**WRITE, "Content-Type": "application/fhir+json"},
    )

    assert response.status_code == 413
    assert response.json()["resourceType"] == "OperationOutcome"


async def test_errors_outside_fhir_routes_are_problem_json(client):
    response = await client.get("/no-such-route")

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 404


async def test_unknown_fhir_route_is_an_operation_outcome(client):
    response = await client.get("/fhir/Nothing")

    assert response.status_code == 404
    assert response.json()["resourceType"] == "OperationOutcome"


async def test_ping_and_status_report_ready_when_migrated(client):
    assert (await client.get("/_ping")).json() == {"status": "ok", "service": "referral"}
    status = await client.get("/_status")

    assert status.status_code == 200
    body = status.json()
    assert body["status"] == "ok"
    assert body["migrations"]["current"] == body["migrations"]["head"]


async def test_a_body_declared_empty_reaches_the_route(client):
    """A Content-Length of 0 is a request without a body (RFC 9112 6.3): the route answers it,
    not the body cap; a body over the cap is still refused."""
    empty = await client.post(
        "/fhir/ServiceRequest",
        content=b"",
        headers={**WRITE, "Content-Type": "application/fhir+json", "Content-Length": "0"},
    )
    over = await client.post(
        "/fhir/ServiceRequest",
        content=b"x" * 2_000_000,
        headers={**WRITE, "Content-Type": "application/fhir+json"},
    )

    assert empty.status_code == 400, empty.text
    assert empty.json()["resourceType"] == "OperationOutcome"
    assert over.status_code == 413


async def test_an_http2_body_is_counted_whatever_its_headers_say():
    """In HTTP/2 a request's body is the data that arrives, Content-Length or not (RFC 9113
    8.1.1): the cap counts it."""
    from signpost_platform.middleware import BodySizeLimitMiddleware

    read = []

    async def app(scope, receive, send):
        while True:
            message = await receive()
            read.append(len(message.get("body", b"")))
            if not message.get("more_body", False):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    capped = BodySizeLimitMiddleware(app, max_bytes=1_000)
    chunks = [{"type": "http.request", "body": b"x" * 600, "more_body": True}] * 3
    chunks.append({"type": "http.request", "body": b"", "more_body": False})
    answers = []

    async def receive():
        return chunks.pop(0)

    async def send(message):
        answers.append(message)

    scope = {
        "type": "http",
        "http_version": "2",
        "method": "POST",
        "path": "/fhir/ServiceRequest",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"content-type", b"application/fhir+json")],
    }
    await capped(scope, receive, send)

    assert answers[0]["status"] == 413
    assert sum(read) <= 1_200


def test_a_new_correlation_id_is_a_random_uuid():
    made = {new_correlation_id() for _ in range(1000)}

    assert len(made) == 1000
    for value in made:
        parsed = uuid.UUID(value)
        assert str(parsed) == value
        assert (parsed.version, parsed.variant) == (4, uuid.RFC_4122)
