"""Bad responses: an OperationOutcome naming each offending item; nothing stored, no referral."""

import pytest

from screening_api.questionnaires.catalogue import QuestionnaireCatalogue
from screening_api.questionnaires.tools import packaged_tools
from tests.screening.builders import (
    BARTS,
    VERSION,
    barts_answers,
    pre_filled,
    screening_response,
)
from tests.screening.conftest import WRITE, update_version_1
from tests.support.rows import count_rows

TABLES = ("questionnaire_response", "response_answer", "observation", "referral_handoff")


async def _refused(client, app, body, status=422, headers=WRITE):
    response = await client.post("/fhir/QuestionnaireResponse", json=body, headers=headers)
    assert response.status_code == status, response.text
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    for table in TABLES:
        assert await count_rows(app, table) == 0, table
    return [(issue["code"], issue["expression"]) for issue in outcome["issue"]]


async def test_a_pre_filled_nhs_number_differing_from_the_subject(client, screening_app):
    body = pre_filled(screening_response(barts_answers()), nhs_number="9000000009")

    assert await _refused(client, screening_app, body) == [
        ("business-rule", ["QuestionnaireResponse.item[6].answer[0].valueString"])
    ]


async def test_a_pre_filled_nhs_number_failing_modulus_11(client, screening_app):
    body = pre_filled(screening_response(barts_answers()), nhs_number="9434765918")
    del body["subject"]

    assert await _refused(client, screening_app, body) == [
        ("value", ["QuestionnaireResponse.item[6].answer[0].valueString"])
    ]


async def test_unknown_questionnaire_version(client, screening_app):
    body = screening_response(questionnaire=f"{BARTS}|1999.9")

    assert await _refused(client, screening_app, body) == [
        ("not-found", ["QuestionnaireResponse.questionnaire"])
    ]


async def test_unknown_questionnaire(client, screening_app):
    body = screening_response(questionnaire="https://elsewhere.example/Questionnaire/x|1")

    assert await _refused(client, screening_app, body) == [
        ("not-found", ["QuestionnaireResponse.questionnaire"])
    ]


async def test_missing_questionnaire_reference(client, screening_app):
    body = screening_response(questionnaire=None)

    assert await _refused(client, screening_app, body) == [
        ("not-found", ["QuestionnaireResponse.questionnaire"])
    ]


async def test_unknown_link_id(client, screening_app):
    body = screening_response(barts_answers() | {"8": "yes"})

    assert await _refused(client, screening_app, body) == [
        ("structure", ["QuestionnaireResponse.item[6].linkId"])
    ]


async def test_code_outside_the_options(client, screening_app):
    body = screening_response()
    body["item"][1]["answer"][0]["valueCoding"] = {"system": "http://loinc.org", "code": "LA6729-3"}

    assert await _refused(client, screening_app, body) == [
        ("code-invalid", ["QuestionnaireResponse.item[1].answer[0].valueCoding"])
    ]


async def test_right_code_in_the_wrong_system(client, screening_app):
    body = screening_response()
    body["item"][0]["answer"][0]["valueCoding"]["system"] = "http://snomed.info/sct"

    assert await _refused(client, screening_app, body) == [
        ("code-invalid", ["QuestionnaireResponse.item[0].answer[0].valueCoding"])
    ]


async def test_answer_of_the_wrong_type(client, screening_app):
    body = screening_response()
    body["item"][0]["answer"] = [{"valueString": "Yes"}]

    assert await _refused(client, screening_app, body) == [
        ("value", ["QuestionnaireResponse.item[0].answer[0].valueString"])
    ]


async def test_two_answers_to_one_item(client, screening_app):
    body = screening_response(barts_answers(item_2=["no", "decline"]))

    assert await _refused(client, screening_app, body) == [
        ("structure", ["QuestionnaireResponse.item[1].answer[1]"])
    ]


async def test_one_item_given_twice(client, screening_app):
    body = screening_response()
    body["item"].append(
        {"linkId": "1", "answer": [{"valueCoding": body["item"][0]["answer"][0]["valueCoding"]}]}
    )

    issues = await _refused(client, screening_app, body)
    assert ("structure", ["QuestionnaireResponse.item[0]"]) in issues
    assert ("structure", ["QuestionnaireResponse.item[6]"]) in issues


async def test_help_question_answered_with_no_flag(client, screening_app):
    body = screening_response(barts_answers() | {"7": "yes"})

    assert await _refused(client, screening_app, body) == [
        ("business-rule", ["QuestionnaireResponse.item[6].answer"])
    ]


async def test_help_question_missing_when_a_flag_enables_it(client, screening_app):
    body = screening_response(barts_answers(item_6="yes"))

    assert await _refused(client, screening_app, body) == [
        ("required", ["QuestionnaireResponse.item.where(linkId='7')"])
    ]


async def test_missing_required_answers_on_completed(client, screening_app):
    answers = barts_answers()
    del answers["2"], answers["5"]

    assert await _refused(client, screening_app, screening_response(answers)) == [
        ("required", ["QuestionnaireResponse.item.where(linkId='2')"]),
        ("required", ["QuestionnaireResponse.item.where(linkId='5')"]),
    ]


async def test_item_with_no_answer_counts_as_unanswered(client, screening_app):
    body = screening_response()
    body["item"][2] = {"linkId": "3"}

    assert await _refused(client, screening_app, body) == [
        ("required", ["QuestionnaireResponse.item.where(linkId='3')"])
    ]


async def test_item_text_that_differs_from_the_questionnaire(client, screening_app):
    body = screening_response()
    body["item"][0]["text"] = "Are you rich?"

    assert await _refused(client, screening_app, body) == [
        ("value", ["QuestionnaireResponse.item[0].text"])
    ]


async def test_every_problem_is_reported_at_once(client, screening_app):
    body = screening_response(barts_answers(item_2=["no", "decline"]) | {"9": "yes"})
    del body["item"][4]

    issues = await _refused(client, screening_app, body)
    assert [expression for _, [expression] in issues] == [
        "QuestionnaireResponse.item[1].answer[1]",
        "QuestionnaireResponse.item[5].linkId",
        "QuestionnaireResponse.item.where(linkId='5')",
    ]


async def test_subject_without_a_valid_nhs_number(client, screening_app):
    body = screening_response(nhs_number="9434765918")

    issues = await _refused(client, screening_app, body)
    assert issues == [("value", ["QuestionnaireResponse.subject.identifier.value"])]


async def test_no_clinic_anywhere_is_refused_naming_the_author(client, screening_app):
    # Neither the extension nor author names a clinic, and the token names no organisation.
    body = screening_response(clinic=None)

    [(code, [expression])] = await _refused(client, screening_app, body)
    assert code == "required"
    assert expression == "QuestionnaireResponse.author"


async def test_status_other_than_draft_or_completed(client, screening_app):
    body = screening_response(status="amended")

    assert await _refused(client, screening_app, body) == [
        ("business-rule", ["QuestionnaireResponse.status"])
    ]


async def test_unknown_element_is_a_structural_error(client, screening_app):
    body = screening_response()
    body["colour"] = "blue"

    assert await _refused(client, screening_app, body, status=400) == [
        ("structure", ["QuestionnaireResponse.colour"])
    ]


async def test_edit_after_completion_is_refused_and_changes_nothing(client, screening_app):
    created = await client.post(
        "/fhir/QuestionnaireResponse", json=screening_response(), headers=WRITE
    )
    changed = screening_response(barts_answers(item_1="yes") | {"7": "yes"})

    response = await update_version_1(client, created, changed)

    assert response.status_code == 409
    assert response.json()["issue"][0]["expression"] == ["QuestionnaireResponse.status"]
    assert await count_rows(screening_app, "referral_handoff") == 0
    stored = await client.get(f"/fhir/QuestionnaireResponse/{created.json()['id']}", headers=WRITE)
    assert stored.json()["meta"]["versionId"] == "1"


async def test_completing_a_draft_with_bad_answers_leaves_the_draft(client, screening_app):
    draft = await client.post(
        "/fhir/QuestionnaireResponse",
        json=screening_response({"1": "yes"}, status="in-progress"),
        headers=WRITE,
    )

    response = await update_version_1(
        client,
        draft,
        screening_response(barts_answers(item_1="yes")),  # item 7 missing
    )

    assert response.status_code == 422
    assert await count_rows(screening_app, "observation") == 0
    assert await count_rows(screening_app, "referral_handoff") == 0


async def test_draft_still_refuses_unknown_items_and_codes(client, screening_app):
    body = screening_response({"1": "yes", "12": "no"}, status="in-progress")

    assert await _refused(client, screening_app, body) == [
        ("structure", ["QuestionnaireResponse.item[1].linkId"])
    ]


async def test_update_needs_if_match(client):
    response = await client.put(
        "/fhir/QuestionnaireResponse/anything", json=screening_response(), headers=WRITE
    )

    assert response.status_code == 428


@pytest.fixture
async def retired_catalogue_client(screening_service):
    """The same app with the Barts tool marked retired (a new version replaced it)."""
    app, client = screening_service
    original = app.state.questionnaires
    tools = packaged_tools()
    retired = [
        type(t)(**{**{f: getattr(t, f) for f in t.__slots__}, "status": "retired"})
        if t.url == BARTS
        else t
        for t in tools
    ]
    app.state.questionnaires = QuestionnaireCatalogue(retired)
    yield client
    app.state.questionnaires = original


async def test_retired_questionnaire_version_takes_no_new_responses(
    retired_catalogue_client, screening_app
):
    body = screening_response(questionnaire=f"{BARTS}|{VERSION}")

    issues = await _refused(retired_catalogue_client, screening_app, body)
    assert issues == [("not-found", ["QuestionnaireResponse.questionnaire"])]
