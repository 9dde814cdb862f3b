"""screening-api's OpenAPI examples, captured from a real run of one synthetic screen.

`python -m tests.support.screening_examples` rewrites
`services/screening-api/src/screening_api/data/openapi-examples.json` from a fresh SQLite
screening-api: a clinic invites a person, they complete the Barts screen (a flag and a wish for
help, so a referral is handed off), a draft is completed by an update, and the results are read
back. tests/openapi/test_captured_examples.py runs the journey again on both databases and fails
when the answers no longer have the committed shape.
"""

import asyncio
from typing import Any

import httpx

from screening_api.config import ScreeningSettings
from screening_api.main import create_app
from tests.screening.builders import barts_answers, invitation, screening_response
from tests.support.captured_examples import Capture, examples_file, rebuild
from tests.support.clients import bearer

EXAMPLES_FILE = examples_file("screening")
BASE_URL = "https://screening.signpost.nhs.example"
WRITE = bearer("screening:write", "screening:read", "screening:all-organisations")
READ = bearer("screening:read", "screening:all-organisations")
REPORTS = bearer("reports:read")
AUDIT = bearer("audit:read", "audit:all-organisations")
BARTS_ID = "barts-social-welfare-screening-2023.1"
# Item 1 flags (financial insecurity) and item 7 asks for help: the screen is handed off.
POSITIVE = barts_answers(item_1="yes") | {"7": "yes"}


async def capture(client: httpx.AsyncClient) -> dict[str, dict[str, Any]]:
    """Every operation of screening-api once, on an empty database."""
    run = Capture(client)
    await run.call("searchQuestionnaire", "GET", "/fhir/Questionnaire?name=barts", headers=READ)
    await run.call("readQuestionnaire", "GET", f"/fhir/Questionnaire/{BARTS_ID}", headers=READ)
    await run.call("createInvitationTask", "POST", "/fhir/Task", json=invitation(), headers=WRITE)

    submitted = screening_response(POSITIVE, identifier="CP-2026-004512")
    path = "/fhir/QuestionnaireResponse"
    # Idempotent: a repeat with the same identifier answers 200 with the stored response.
    once = {
        **WRITE,
        "If-None-Exist": "identifier=https://clinic-portal.example/response|CP-2026-004512",
    }
    created = await run.call(
        "createQuestionnaireResponse", "POST", path, json=submitted, headers=once
    )
    await run.call("createQuestionnaireResponse", "POST", path, json=submitted, headers=once)
    response_id = created.json()["id"]
    await run.call("readQuestionnaireResponse", "GET", f"{path}/{response_id}", headers=READ)

    draft = screening_response({"1": "yes"}, status="in-progress", identifier="CP-2026-004513")
    started = await client.post(path, json=draft, headers=WRITE)
    started.raise_for_status()
    completed = screening_response(POSITIVE, identifier="CP-2026-004513")
    await run.call(
        "updateQuestionnaireResponse",
        "PUT",
        f"{path}/{started.json()['id']}",
        json=completed,
        headers={**WRITE, "If-Match": 'W/"1"'},
    )

    found = await run.call(
        "searchObservation",
        "GET",
        "/fhir/Observation",
        params={"derived-from": f"QuestionnaireResponse/{response_id}", "_count": 1},
        headers=READ,
    )
    observation_id = found.json()["entry"][0]["resource"]["id"]
    await run.call("readObservation", "GET", f"/fhir/Observation/{observation_id}", headers=READ)
    await run.call("capabilities", "GET", "/fhir/metadata")
    await run.call("listReferralHandoffs", "GET", "/referral-handoffs", headers=READ)
    await run.call("readReferralHandoff", "GET", f"/referral-handoffs/{response_id}", headers=READ)
    await run.call("screeningReport", "GET", "/reports/screening", headers=REPORTS)
    await run.call("listAuditEvents", "GET", "/audit", params={"limit": 1}, headers=AUDIT)
    return run.examples


def settings(database_url: str) -> ScreeningSettings:
    """A screening-api whose hand-off worker does not run: hand-offs stay pending."""
    return ScreeningSettings(
        database_url=database_url,
        environment="test",
        referral_api_url="https://referral.signpost.nhs.example",
        handoff_worker_enabled=False,
        referral_routes={"R1H12": "F84001"},
    )


if __name__ == "__main__":
    asyncio.run(rebuild("screening", lambda url: create_app(settings(url)), BASE_URL, capture))
