"""Extraction: one Observation per answered item, readable at /fhir/Observation."""

from fhir.resources.R4B.observation import Observation as R4BObservation

from tests.screening.builders import barts_answers, screening_response
from tests.screening.conftest import READ, WRITE

OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
DOMAIN = "http://hl7.org/fhir/us/sdoh-clinicalcare/CodeSystem/SDOHCC-CodeSystemTemporaryCodes"
RISK_QUESTIONS = [
    "difficulty-making-ends-meet",
    "missed-meal-no-food",
    "stable-housing",
    "family-friends-support",
    "feels-unsafe",
    "health-affects-carer-role",
]


async def _completed(client, answers):
    response = await client.post(
        "/fhir/QuestionnaireResponse", json=screening_response(answers), headers=WRITE
    )
    assert response.status_code == 201
    return response.json()["id"]


async def _observations(client, response_id, **params):
    response = await client.get(
        "/fhir/Observation",
        params={"derived-from": f"QuestionnaireResponse/{response_id}", **params},
        headers=READ,
    )
    assert response.status_code == 200
    return [entry["resource"] for entry in response.json().get("entry", [])]


async def test_one_observation_per_answered_item(client):
    response_id = await _completed(client, barts_answers(item_3="no") | {"7": "no"})

    observations = await _observations(client, response_id)

    assert sorted(o["code"]["coding"][0]["code"] for o in observations) == sorted(
        [*RISK_QUESTIONS, "wants-to-talk-to-someone"]
    )
    for observation in observations:
        R4BObservation.model_validate(observation)
        assert observation["derivedFrom"] == [{"reference": f"QuestionnaireResponse/{response_id}"}]
        assert observation["status"] == "final"
        assert observation["subject"]["identifier"]["value"] == "9434765919"


async def test_flag_answers_are_interpreted_positive_and_others_are_not(client):
    response_id = await _completed(
        client, barts_answers(item_3="no", item_1="decline") | {"7": "yes"}
    )

    by_code = {o["code"]["coding"][0]["code"]: o for o in await _observations(client, response_id)}

    housing = by_code["stable-housing"]
    assert housing["interpretation"][0]["coding"][0]["code"] == "POS"
    assert housing["valueCodeableConcept"]["coding"][0]["code"] == "LA32-8"
    assert "interpretation" not in by_code["difficulty-making-ends-meet"]
    assert "interpretation" not in by_code["missed-meal-no-food"]


async def test_categories_are_uk_core_survey_social_history_and_the_question_domain(client):
    response_id = await _completed(client, barts_answers(item_2="yes") | {"7": "yes"})

    by_code = {o["code"]["coding"][0]["code"]: o for o in await _observations(client, response_id)}

    for code in RISK_QUESTIONS:
        survey, social_history, domain = by_code[code]["category"]
        assert survey["coding"] == [
            {"system": OBSERVATION_CATEGORY, "code": "survey", "display": "Survey"}
        ]
        assert social_history["coding"] == [
            {"system": OBSERVATION_CATEGORY, "code": "social-history", "display": "Social History"}
        ]
        assert domain["coding"][0]["system"] == DOMAIN
    food = by_code["missed-meal-no-food"]["category"][2]
    assert food["coding"][0]["code"] == "food-insecurity"
    safety = by_code["feels-unsafe"]["category"][2]
    assert safety["coding"][0]["code"] == "sdoh-category-unspecified"
    assert safety["text"] == "Personal safety"
    # The help question is not a social circumstance: survey only.
    assert [c["coding"][0]["code"] for c in by_code["wants-to-talk-to-someone"]["category"]] == [
        "survey"
    ]
    assert "us/core" not in str([o["category"] for o in by_code.values()])


async def test_the_answer_carries_loincs_display_whatever_the_sender_sent(client):
    body = screening_response(barts_answers(item_1="decline"))
    assert body["item"][0]["answer"][0]["valueCoding"]["display"] == "I don't want to answer"
    del body["item"][1]["answer"][0]["valueCoding"]["display"]
    created = await client.post("/fhir/QuestionnaireResponse", json=body, headers=WRITE)

    observations = await _observations(client, created.json()["id"])

    by_code = {o["code"]["coding"][0]["code"]: o for o in observations}
    assert by_code["difficulty-making-ends-meet"]["valueCodeableConcept"]["coding"] == [
        {
            "system": "http://loinc.org",
            "code": "LA30122-8",
            "display": "I choose not to answer this question",
        }
    ]
    assert by_code["missed-meal-no-food"]["valueCodeableConcept"]["coding"] == [
        {"system": "http://loinc.org", "code": "LA32-8", "display": "No"}
    ]


async def test_search_by_interpretation_and_category(client):
    response_id = await _completed(client, barts_answers(item_2="yes") | {"7": "yes"})

    positive = await _observations(client, response_id, interpretation="POS")
    food = await _observations(client, response_id, category="food-insecurity")
    social = await _observations(
        client, response_id, category=f"{OBSERVATION_CATEGORY}|social-history"
    )
    survey = await _observations(client, response_id, category="survey")
    us_core = await _observations(
        client, response_id, category="http://hl7.org/fhir/us/core/CodeSystem/us-core-category|sdoh"
    )
    either = await _observations(client, response_id, category="food-insecurity,survey")

    assert [o["code"]["coding"][0]["code"] for o in positive] == ["missed-meal-no-food"]
    assert [o["code"]["coding"][0]["code"] for o in food] == ["missed-meal-no-food"]
    assert sorted(o["code"]["coding"][0]["code"] for o in social) == sorted(RISK_QUESTIONS)
    assert len(survey) == len(either) == 7
    assert us_core == []


async def test_search_by_nhs_number_and_read_one(client):
    response_id = await _completed(client, barts_answers())
    search = await client.get(
        "/fhir/Observation",
        params={
            "patient.identifier": "https://fhir.nhs.uk/Id/nhs-number|9434765919",
            "code": "feels-unsafe",
        },
        headers=READ,
    )
    [entry] = search.json()["entry"]

    read = await client.get(f"/fhir/Observation/{entry['resource']['id']}", headers=READ)

    assert read.status_code == 200
    assert read.json()["derivedFrom"][0]["reference"] == f"QuestionnaireResponse/{response_id}"


async def test_drafts_have_no_observations(client):
    draft = await client.post(
        "/fhir/QuestionnaireResponse",
        json=screening_response({"1": "yes"}, status="in-progress"),
        headers=WRITE,
    )

    assert await _observations(client, draft.json()["id"]) == []


async def test_bad_search_values_are_refused(client):
    bad_number = await client.get(
        "/fhir/Observation", params={"patient.identifier": "123"}, headers=READ
    )
    bad_interpretation = await client.get(
        "/fhir/Observation", params={"interpretation": "NEG"}, headers=READ
    )

    assert bad_number.status_code == 400
    assert bad_number.json()["issue"][0]["expression"] == ["patient.identifier"]
    assert bad_interpretation.json()["issue"][0]["expression"] == ["interpretation"]


async def test_search_by_id_and_summary_count(client):
    response_id = await _completed(client, barts_answers())
    every = await _observations(client, response_id)
    first, second = every[0]["id"], every[1]["id"]

    one = await _observations(client, response_id, _id=first)
    two = await _observations(client, response_id, _id=f"{first},{second}")
    counted = await client.get(
        "/fhir/Observation",
        params={"derived-from": f"QuestionnaireResponse/{response_id}", "_summary": "count"},
        headers=READ,
    )

    assert [o["id"] for o in one] == [first]
    assert sorted(o["id"] for o in two) == sorted([first, second])
    assert counted.json()["total"] == len(every)
    assert "entry" not in counted.json()  # FHIR JSON has no empty arrays


async def test_unknown_parameter_is_ignored_unless_strict(client):
    response_id = await _completed(client, barts_answers())
    params = {"derived-from": f"QuestionnaireResponse/{response_id}", "_lastUpdated": "ge2000"}

    lenient = await client.get("/fhir/Observation", params=params, headers=READ)
    strict = await client.get(
        "/fhir/Observation", params=params, headers={**READ, "Prefer": "handling=strict"}
    )

    assert lenient.status_code == 200
    outcome = lenient.json()["entry"][-1]
    assert outcome["search"]["mode"] == "outcome"
    assert outcome["resource"]["issue"][0]["expression"] == ["_lastUpdated"]
    assert strict.status_code == 400
    assert strict.json()["issue"][0]["expression"] == ["_lastUpdated"]
