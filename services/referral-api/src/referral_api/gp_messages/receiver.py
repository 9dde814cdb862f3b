"""A referrer's message endpoint for development and tests: what a GP system's BaRS endpoint
does with the messages back to the referrer, in memory.

`make run` starts it on port 8009 and points referral-api's F84001 (the synthetic GP practice of
the examples) at it: `uvicorn --factory referral_api.gp_messages.receiver:create_app`.

- `POST /{ods_code}/$process-message` takes a message Bundle: 200 and kept, once per
  `Bundle.id` (a repeat is answered 200 and counted, not kept again); 503 with `Retry-After`
  while the endpoint is down.
- `GET /{ods_code}/messages` lists what arrived for that organisation: each message's id, event,
  Task status and reason, and the GP-record SNOMED CT codes, plus the repeats recognised.
- `PUT /availability` with `{"up": false}` takes it down (and `true` brings it back), to watch
  referral-api retry.

Nothing here is kept past the process, and it checks no token: never deploy it.
"""

from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

SNOMED = "http://snomed.info/sct"


@dataclass
class Received:
    """What the endpoint was sent: every attempt's Bundle.id, and each message once, by
    organisation."""

    up: bool = True
    attempts: list[str] = field(default_factory=list)
    messages: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    repeats: int = 0

    def ids(self, ods_code: str) -> list[str]:
        return list(self.messages.get(ods_code.upper(), {}))

    def clear(self) -> None:
        self.up = True
        self.attempts.clear()
        self.messages.clear()
        self.repeats = 0


def summary(message: dict[str, Any]) -> dict[str, Any]:
    """A received message as a GP system would file it: event, outcome and codes."""
    resources = [entry.get("resource", {}) for entry in message.get("entry", [])]
    task: dict[str, Any] = next((r for r in resources if r.get("resourceType") == "Task"), {})
    reason = (task.get("statusReason") or {}).get("coding") or [{}]
    return {
        "id": message.get("id"),
        "event": ((task.get("businessStatus") or {}).get("coding") or [{}])[0].get("code"),
        "task_status": task.get("status"),
        "reason": reason[0].get("code"),
        "gp_record_codes": [
            coding.get("code")
            for resource in resources
            if resource.get("resourceType") == "Observation"
            for coding in (resource.get("code") or {}).get("coding", [])
            if coding.get("system") == SNOMED
        ],
    }


def create_app() -> FastAPI:
    app = FastAPI(title="Signpost development referrer endpoint", docs_url=None, redoc_url=None)
    received = Received()
    app.state.received = received

    @app.post("/{ods_code}/$process-message")
    async def process_message(ods_code: str, request: Request) -> JSONResponse:
        message = await request.json()
        if message.get("resourceType") != "Bundle" or not message.get("id"):
            return JSONResponse(_outcome("invalid", "not a message Bundle"), status_code=400)
        received.attempts.append(message["id"])
        if not received.up:
            return JSONResponse(
                _outcome("transient", "the endpoint is down"),
                status_code=503,
                headers={"Retry-After": "5"},
            )
        kept = received.messages.setdefault(ods_code.upper(), {})
        if message["id"] in kept:
            received.repeats += 1
        else:
            kept[message["id"]] = message
        return JSONResponse(_outcome("informational", "received"))

    @app.get("/{ods_code}/messages")
    async def messages(ods_code: str) -> dict[str, Any]:
        kept = received.messages.get(ods_code.upper(), {})
        return {
            "messages": [summary(message) for message in kept.values()],
            "repeats_recognised": received.repeats,
        }

    @app.put("/availability")
    async def availability(request: Request) -> dict[str, bool]:
        received.up = bool((await request.json()).get("up", True))
        return {"up": received.up}

    return app


def _outcome(code: str, text: str) -> dict[str, Any]:
    severity = "information" if code == "informational" else "error"
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": severity, "code": code, "diagnostics": text}],
    }
