"""Submitting responses: the stored response, its outcome, drafts, completion and retries."""

from fhir.resources.R4B.questionnaireresponse import (
    QuestionnaireResponse as R4BQuestionnaireResponse,
)

from tests.screening.builders import (
    BARTS,
    SHORT,
    VERSION,
    barts_answers,
    outcome_of,
    screening_response,
)
from tests.screening.conftest import READ, WRITE, update_version_1
from tests.support.rows import count_rows, fetch_rows


async def test_negative_screen_is_stored_with_outcome_and_no_referral(client, screening_app):
    response = await client.post(
        "/fhir/QuestionnaireResponse", json=screening_response(), headers=WRITE
    )

    assert response.status_code == 201
    body = response.json()
    assert response.headers["location"].endswith(f"/fhir/QuestionnaireResponse/{body['id']}")
    assert response.headers["etag"] == 'W/"1"'
    assert outcome_of(body) == {
        "flags": [],
        "screenPositive": False,
        "referral": {"state": "not-needed"},
    }
    assert await count_rows(screening_app, "referral_handoff") == 0
    [row] = await fetch_rows(
        screening_app,
        "SELECT status, nhs_number, clinic_ods, pathway, screen_positive, wants_help "
        "FROM questionnaire_response",
    )
    assert row == {
        "status": "completed",
        "nhs_number": "9434765919",
        "clinic_ods": "R1H12",
        "pathway": "cardiology-outpatient",
        "screen_positive": False,
        "wants_help": None,
    }


async def test_served_response_is_valid_fhir_r4(client):
    body = screening_response(barts_answers(item_1="yes") | {"7": "yes"})
    response = await client.post("/fhir/QuestionnaireResponse", json=body, headers=WRITE)

    parsed = R4BQuestionnaireResponse.model_validate(response.json())
    assert parsed.questionnaire == f"{BARTS}|{VERSION}"
    assert [item.linkId for item in parsed.item] == ["1", "2", "3", "4", "5", "6", "7"]


async def test_positive_screen_wanting_help_records_a_pending_referral(client, screening_app):
    body = screening_response(barts_answers(item_1="yes", item_3="no") | {"7": "yes"})
    response = await client.post("/fhir/QuestionnaireResponse", json=body, headers=WRITE)

    assert response.status_code == 201
    outcome = outcome_of(response.json())
    assert outcome == {
        "flags": ["financial-insecurity", "housing-instability"],
        "screenPositive": True,
        "wantsHelp": True,
        "referral": {"state": "pending", "attempts": 0},
    }
    [handoff] = await fetch_rows(
        screening_app, "SELECT response_id, state, identifier_value FROM referral_handoff"
    )
    assert handoff == {
        "response_id": response.json()["id"],
        "state": "pending",
        "identifier_value": response.json()["id"],
    }


async def test_answering_no_to_help_is_recorded_and_raises_no_referral(client, screening_app):
    body = screening_response(barts_answers(item_2="yes") | {"7": "no"})
    response = await client.post("/fhir/QuestionnaireResponse", json=body, headers=WRITE)

    assert outcome_of(response.json()) == {
        "flags": ["food-insecurity"],
        "screenPositive": True,
        "wantsHelp": False,
        "referral": {"state": "declined"},
    }
    assert await count_rows(screening_app, "referral_handoff") == 0
    assert await fetch_rows(
        screening_app, "SELECT screen_positive, wants_help FROM questionnaire_response"
    ) == [{"screen_positive": True, "wants_help": False}]


async def test_dont_want_to_answer_is_never_a_flag(client, screening_app):
    answers = {link_id: "decline" for link_id in ("1", "2", "3", "4", "5", "6")}
    response = await client.post(
        "/fhir/QuestionnaireResponse", json=screening_response(answers), headers=WRITE
    )

    assert response.status_code == 201
    assert outcome_of(response.json())["screenPositive"] is False
    rows = await fetch_rows(
        screening_app, "SELECT link_id, is_flag, is_declined FROM response_answer ORDER BY link_id"
    )
    assert rows == [{"link_id": str(n), "is_flag": False, "is_declined": True} for n in range(1, 7)]


async def test_help_question_declined_to_answer_raises_no_referral(client, screening_app):
    body = screening_response(barts_answers(item_4="no") | {"7": "decline"})
    response = await client.post("/fhir/QuestionnaireResponse", json=body, headers=WRITE)

    outcome = outcome_of(response.json())
    assert outcome["flags"] == ["social-connection"]
    assert "wantsHelp" not in outcome
    assert outcome["referral"] == {"state": "not-requested"}
    assert await count_rows(screening_app, "referral_handoff") == 0


async def test_short_form_positive_screen_wanting_help_is_referred(client, screening_app):
    body = screening_response({"1": "yes", "2": "yes"}, questionnaire=f"{SHORT}|{VERSION}")
    response = await client.post("/fhir/QuestionnaireResponse", json=body, headers=WRITE)

    assert response.status_code == 201
    assert outcome_of(response.json())["flags"] == ["material-hardship"]
    assert await count_rows(screening_app, "referral_handoff") == 1


async def test_questionnaire_url_without_version_resolves_to_the_active_version(client):
    body = screening_response(questionnaire=BARTS)
    response = await client.post("/fhir/QuestionnaireResponse", json=body, headers=WRITE)

    assert response.status_code == 201
    assert response.json()["questionnaire"] == BARTS


async def test_draft_is_saved_loosely_and_completed_later(client, screening_app):
    draft = screening_response({"1": "yes"}, status="in-progress")
    created = await client.post("/fhir/QuestionnaireResponse", json=draft, headers=WRITE)

    assert created.status_code == 201
    assert not [e for e in created.json().get("extension", []) if "outcome" in e["url"]]
    assert await count_rows(screening_app, "observation") == 0

    completed = screening_response(barts_answers(item_1="yes") | {"7": "yes"})
    response = await update_version_1(client, created, completed)

    assert response.status_code == 200
    assert response.headers["etag"] == 'W/"2"'
    assert outcome_of(response.json())["referral"]["state"] == "pending"
    assert await count_rows(screening_app, "observation") == 7
    assert await count_rows(screening_app, "referral_handoff") == 1


async def test_draft_update_with_a_stale_version_is_refused(client):
    draft = screening_response({"1": "yes"}, status="in-progress")
    created = await client.post("/fhir/QuestionnaireResponse", json=draft, headers=WRITE)
    await update_version_1(client, created, draft)

    response = await update_version_1(client, created, draft)

    assert response.status_code == 412
    assert response.json()["issue"][0]["expression"] == ["If-Match"]


async def test_draft_update_without_if_match_replaces_the_version_its_meta_names(client):
    draft = screening_response({"1": "yes"}, status="in-progress")
    created = (await client.post("/fhir/QuestionnaireResponse", json=draft, headers=WRITE)).json()
    path = f"/fhir/QuestionnaireResponse/{created['id']}"
    read_back = {**screening_response({"1": "no"}, status="in-progress"), "meta": created["meta"]}

    first = await client.put(path, json=read_back, headers=WRITE)
    second = await client.put(path, json=read_back, headers=WRITE)

    assert first.status_code == 200, first.text
    assert first.headers["etag"] == 'W/"2"'
    assert second.status_code == 412


async def test_retry_with_if_none_exist_returns_the_first_submission(client, screening_app):
    body = screening_response(barts_answers(item_1="yes") | {"7": "yes"}, identifier="visit-1")
    condition = {"If-None-Exist": "identifier=https://clinic-portal.example/response|visit-1"}
    first = await client.post(
        "/fhir/QuestionnaireResponse", json=body, headers={**WRITE, **condition}
    )
    second = await client.post(
        "/fhir/QuestionnaireResponse", json=body, headers={**WRITE, **condition}
    )

    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["id"] == first.json()["id"]
    assert await count_rows(screening_app, "questionnaire_response") == 1
    assert await count_rows(screening_app, "referral_handoff") == 1


async def test_reused_identifier_without_if_none_exist_is_a_conflict(client, screening_app):
    body = screening_response(identifier="visit-2")
    await client.post("/fhir/QuestionnaireResponse", json=body, headers=WRITE)

    response = await client.post("/fhir/QuestionnaireResponse", json=body, headers=WRITE)

    assert response.status_code == 409
    assert response.json()["issue"][0]["expression"] == ["QuestionnaireResponse.identifier"]
    assert await count_rows(screening_app, "questionnaire_response") == 1


async def test_read_shows_the_current_outcome(client):
    body = screening_response(barts_answers(item_5="yes") | {"7": "yes"})
    created = await client.post("/fhir/QuestionnaireResponse", json=body, headers=WRITE)

    response = await client.get(f"/fhir/QuestionnaireResponse/{created.json()['id']}", headers=READ)

    assert response.status_code == 200
    assert outcome_of(response.json())["flags"] == ["personal-safety"]
    assert response.json()["subject"] == {
        "identifier": {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9434765919"}
    }


async def test_submission_needs_the_write_scope(client):
    response = await client.post(
        "/fhir/QuestionnaireResponse", json=screening_response(), headers=READ
    )

    assert response.status_code == 403
    assert response.json()["resourceType"] == "OperationOutcome"
