"""The screening questionnaires in real renderers, in headless Chromium, offline.

NLM LHC-Forms (npm `lforms`) and CSIRO Smart Forms (`@aehrc/smart-forms-renderer`) render the
Questionnaire exactly as screening-api serves it; item 7 appears only after a flag answer; the
response each exports is accepted by screening-api (Smart Forms' raw export, which keeps the
answer to an item that was hidden again, is refused). No request leaves 127.0.0.1.

Needs Debian chromium and `tests/renderers/setup.sh` (npm packages and the Smart Forms bundle);
skipped with the reason when they are missing, unless SIGNPOST_REQUIRE_RENDERERS=1 (CI).
"""

import functools
import json
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.screening.builders import NHS_NUMBER, outcome_of, with_subject
from tests.support.clients import bearer
from tests.support.tools import drive_chromium, missing_for_chromium, requires_tools

HERE = Path(__file__).parent
LOINC = "http://loinc.org"
YES, NO = "LA33-6", "LA32-8"
BARTS_ID = "barts-social-welfare-screening-2023.1"
SHORT_ID = "basic-needs-short-screen-2023.1"

MISSING = missing_for_chromium(
    ("the npm packages", (HERE / "node_modules" / "playwright-core").is_dir()),
    ("the Smart Forms page", (HERE / "build" / "smartforms.js").is_file()),
)
# CI sets SIGNPOST_REQUIRE_RENDERERS=1 so that a missing setup fails instead of skipping.
# What the front ends render does not depend on the database: the tests run once, on SQLite.
pytestmark = [
    requires_tools(MISSING, "tests/renderers/setup.sh", "SIGNPOST_REQUIRE_RENDERERS"),
    pytest.mark.sqlite_only,
]


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def pages() -> Iterator[str]:
    """This folder served on a loopback port (the renderers' files and the test pages)."""
    handler = functools.partial(_QuietHandler, directory=str(HERE))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


async def _drive(
    renderer: str,
    pages: str,
    questionnaire: dict[str, Any],
    answers: list[tuple[str, str]],
    probe: str,
    tmp_path: Path,
    patient: dict[str, Any] | None = None,
) -> dict[str, Any]:
    scenario = tmp_path / f"{renderer}-scenario.json"
    scenario.write_text(
        json.dumps(
            {
                "questionnaire": questionnaire,
                "probe": probe,
                "answers": [[link_id, LOINC, code] for link_id, code in answers],
                "patient": patient,
            }
        )
    )
    result = await drive_chromium(
        HERE / "drive.mjs", renderer, pages, str(scenario), cwd=HERE, seconds=150
    )
    assert result["externalRequests"] == []
    assert result["pageErrors"] == []
    return result


async def _served(client, questionnaire_id: str) -> dict[str, Any]:
    response = await client.get(f"/fhir/Questionnaire/{questionnaire_id}")
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


# The front end acts for one clinic: its token names the clinic, so the response need not.
WRITE = bearer("screening:write", "screening:read", ods="R1H12")


async def _submit(client: httpx.AsyncClient, exported: dict[str, Any]) -> httpx.Response:
    """POST the renderer's response as the front end sends it: plus the person, which is all the
    front end adds."""
    return await client.post(
        "/fhir/QuestionnaireResponse", json=with_subject(exported), headers=WRITE
    )


NO_FLAGS = [("2", NO), ("3", YES), ("4", YES), ("5", NO), ("6", NO)]


# The person the form is launched with (SDC launch context), as an EHR would give it.
LAUNCH_PATIENT = {
    "resourceType": "Patient",
    "id": "launch-patient",
    "identifier": [
        {"system": "https://example.org/mrn", "value": "MRN-0042"},
        {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": NHS_NUMBER},
    ],
}


async def test_lforms_launched_with_the_person_pre_fills_the_nhs_number_and_is_referred(
    client, pages, tmp_path
):
    questionnaire = await _served(client, BARTS_ID)

    result = await _drive(
        "lforms",
        pages,
        questionnaire,
        [("1", YES), ("7", YES), *NO_FLAGS],
        "7",
        tmp_path,
        patient=LAUNCH_PATIENT,
    )

    assert result["visibleBefore"] is False
    assert result["visible"][0] is True
    exported = result["response"]
    assert exported["questionnaire"] == questionnaire["url"] + "|" + questionnaire["version"]
    assert [item["linkId"] for item in exported["item"]] == [
        *["1", "2", "3", "4", "5", "6", "7"],
        "nhs-number",
    ]
    assert exported["item"][-1]["answer"] == [{"valueString": NHS_NUMBER}]
    # Pre-filled from the launch patient, the export names the person: nothing is added.
    response = await client.post("/fhir/QuestionnaireResponse", json=exported, headers=WRITE)
    assert response.status_code == 201, response.text
    assert response.json()["subject"]["identifier"]["value"] == NHS_NUMBER
    outcome = outcome_of(response.json())
    assert (outcome["flags"], outcome["wantsHelp"], outcome["referral"]["state"]) == (
        ["financial-insecurity"],
        True,
        "pending",
    )


async def test_lforms_never_shows_item_7_without_a_flag(client, pages, tmp_path):
    questionnaire = await _served(client, BARTS_ID)

    result = await _drive("lforms", pages, questionnaire, [("1", NO), *NO_FLAGS], "7", tmp_path)

    assert result["visibleBefore"] is False and not any(result["visible"])
    assert "7" not in [item["linkId"] for item in result["response"]["item"]]
    response = await _submit(client, result["response"])
    assert response.status_code == 201, response.text
    assert outcome_of(response.json())["screenPositive"] is False


async def test_lforms_short_form(client, pages, tmp_path):
    questionnaire = await _served(client, SHORT_ID)

    result = await _drive("lforms", pages, questionnaire, [("1", YES), ("2", YES)], "2", tmp_path)

    assert (result["visibleBefore"], result["visible"]) == (False, [True, True])
    response = await _submit(client, result["response"])
    assert response.status_code == 201, response.text
    assert outcome_of(response.json())["referral"]["state"] == "pending"


async def test_smart_forms_hides_item_7_again_and_its_raw_export_is_refused(
    client, pages, tmp_path
):
    questionnaire = await _served(client, BARTS_ID)
    answers = [("1", YES), ("7", YES), ("1", NO), *NO_FLAGS]

    result = await _drive("smartforms", pages, questionnaire, answers, "7", tmp_path)

    assert result["visibleBefore"] is False
    assert result["visible"][:3] == [True, True, False]
    raw = {**result["rawResponse"], "status": "completed"}
    refused = await _submit(client, raw)
    assert refused.status_code == 422
    assert [i["expression"] for i in refused.json()["issue"]] == [
        ["QuestionnaireResponse.item[6].answer"]
    ]
    accepted = await _submit(client, result["response"])
    assert accepted.status_code == 201, accepted.text
    assert outcome_of(accepted.json())["referral"]["state"] == "not-needed"


async def test_smart_forms_positive_screen_is_referred(client, pages, tmp_path):
    questionnaire = await _served(client, BARTS_ID)

    result = await _drive(
        "smartforms",
        pages,
        questionnaire,
        [("1", NO), ("2", YES), ("3", NO), ("4", YES), ("5", NO), ("6", NO), ("7", YES)],
        "7",
        tmp_path,
    )

    response = await _submit(client, result["response"])
    assert response.status_code == 201, response.text
    outcome = outcome_of(response.json())
    assert outcome["flags"] == ["food-insecurity", "housing-instability"]
    assert outcome["referral"]["state"] == "pending"
