"""Serving the questionnaires: read, search, and their content as FHIR."""

import re

from fhir.resources.R4B.questionnaire import Questionnaire as R4BQuestionnaire

from tests.screening.builders import BARTS, SHORT, VERSION

BARTS_ID = "barts-social-welfare-screening-2023.1"
SHORT_ID = "basic-needs-short-screen-2023.1"
LOINC_ANSWERS = ["LA33-6", "LA32-8", "LA30122-8"]
# LOINC's own displays of its answer codes (the code list's, confirmed in HL7's SDOH Clinical
# Care PRAPARE questionnaire), whatever the tool's wording.
LOINC_DISPLAYS = {
    "LA33-6": "Yes",
    "LA32-8": "No",
    "LA30122-8": "I choose not to answer this question",
}
SDC = "http://hl7.org/fhir/uv/sdc"
# R4 que-0: the name is usable as an identifier by machine processing.
QUE_0 = re.compile(r"[A-Z]([A-Za-z0-9_]){0,254}")


def _questions(body):
    return [item for item in body["item"] if item["linkId"] != "nhs-number"]


async def test_read_serves_the_barts_tool_as_valid_fhir_r4(client):
    response = await client.get(f"/fhir/Questionnaire/{BARTS_ID}")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/fhir+json")
    questionnaire = R4BQuestionnaire.model_validate(response.json())
    assert (questionnaire.url, questionnaire.version, questionnaire.status) == (
        BARTS,
        VERSION,
        "active",
    )
    assert [item.linkId for item in questionnaire.item] == [
        *["1", "2", "3", "4", "5", "6", "7"],
        "nhs-number",
    ]


async def test_every_question_is_coded_required_with_coded_answers(client):
    body = (await client.get(f"/fhir/Questionnaire/{BARTS_ID}")).json()

    for item in _questions(body):
        assert item["type"] == "choice" and item["required"] is True
        assert item["code"][0]["system"] == (
            "https://signpost.nhs.example/CodeSystem/screening-question"
        )
        assert [o["valueCoding"]["code"] for o in item["answerOption"]] == LOINC_ANSWERS
        assert {o["valueCoding"]["system"] for o in item["answerOption"]} == {"http://loinc.org"}
    assert body["item"][0]["text"] == (
        "Do you have difficulty making ends meet at the end of the month?"
    )


async def test_loinc_answer_codes_carry_loincs_own_displays(client):
    for questionnaire_id in (BARTS_ID, SHORT_ID):
        body = (await client.get(f"/fhir/Questionnaire/{questionnaire_id}")).json()

        codings = [
            option["valueCoding"] for item in _questions(body) for option in item["answerOption"]
        ]
        conditions = [
            c["answerCoding"] for item in body["item"] for c in item.get("enableWhen", [])
        ]
        for coding in codings + conditions:
            assert coding["system"] == "http://loinc.org"
            assert coding["display"] == LOINC_DISPLAYS[coding["code"]], coding


async def test_names_are_computable_que_0(client):
    bundle = (await client.get("/fhir/Questionnaire")).json()

    names = {e["resource"]["id"]: e["resource"]["name"] for e in bundle["entry"]}
    assert names == {BARTS_ID: "BartsSocialWelfareScreening", SHORT_ID: "BasicNeedsShortScreen"}
    assert all(QUE_0.fullmatch(name) for name in names.values())


async def test_the_launch_patient_pre_fills_a_hidden_nhs_number_item(client):
    for questionnaire_id in (BARTS_ID, SHORT_ID):
        body = (await client.get(f"/fhir/Questionnaire/{questionnaire_id}")).json()

        assert f"{SDC}/StructureDefinition/sdc-questionnaire-pop-exp" in body["meta"]["profile"]
        [context] = [
            e
            for e in body["extension"]
            if e["url"] == f"{SDC}/StructureDefinition/sdc-questionnaire-launchContext"
        ]
        parts = {part["url"]: part for part in context["extension"]}
        assert parts["name"]["valueCoding"] == {
            "system": f"{SDC}/CodeSystem/launchContext",
            "code": "patient",
            "display": "Patient",
        }
        assert parts["type"]["valueCode"] == "Patient"
        item = body["item"][-1]
        assert (item["linkId"], item["type"], item["readOnly"], item["required"]) == (
            "nhs-number",
            "string",
            True,
            False,
        )
        extensions = {e["url"]: e for e in item["extension"]}
        assert extensions["http://hl7.org/fhir/StructureDefinition/questionnaire-hidden"] == {
            "url": "http://hl7.org/fhir/StructureDefinition/questionnaire-hidden",
            "valueBoolean": True,
        }
        expression = extensions[f"{SDC}/StructureDefinition/sdc-questionnaire-initialExpression"]
        assert expression["valueExpression"]["language"] == "text/fhirpath"
        assert expression["valueExpression"]["expression"] == (
            "%patient.identifier.where(system='https://fhir.nhs.uk/Id/nhs-number').value.first()"
        )
        R4BQuestionnaire.model_validate(body)


async def test_item_seven_is_enabled_by_any_flag_answer_of_items_one_to_six(client):
    body = (await client.get(f"/fhir/Questionnaire/{BARTS_ID}")).json()

    help_item = body["item"][6]
    assert help_item["enableBehavior"] == "any"
    assert [
        (c["question"], c["operator"], c["answerCoding"]["code"]) for c in help_item["enableWhen"]
    ] == [
        ("1", "=", "LA33-6"),
        ("2", "=", "LA33-6"),
        ("3", "=", "LA32-8"),
        ("4", "=", "LA32-8"),
        ("5", "=", "LA33-6"),
        ("6", "=", "LA33-6"),
    ]
    assert all("enableWhen" not in item for item in body["item"][:6])


async def test_short_form_has_two_questions_with_help_only_after_a_flag(client):
    body = (await client.get("/fhir/Questionnaire/basic-needs-short-screen-2023.1")).json()

    assert [item["linkId"] for item in body["item"]] == ["1", "2", "nhs-number"]
    assert body["item"][1]["enableWhen"] == [
        {
            "question": "1",
            "operator": "=",
            "answerCoding": {"system": "http://loinc.org", "code": "LA33-6", "display": "Yes"},
        }
    ]
    assert [o["valueCoding"]["code"] for o in body["item"][1]["answerOption"]] == [
        "LA33-6",
        "LA32-8",
    ]
    R4BQuestionnaire.model_validate(body)


async def test_search_by_url_returns_the_matching_questionnaire(client):
    response = await client.get("/fhir/Questionnaire", params={"url": SHORT})

    bundle = response.json()
    assert bundle["type"] == "searchset" and bundle["total"] == 1
    assert bundle["entry"][0]["resource"]["url"] == SHORT
    assert bundle["entry"][0]["fullUrl"].endswith(
        "/fhir/Questionnaire/basic-needs-short-screen-2023.1"
    )


async def test_search_by_name_version_and_status(client):
    by_name = await client.get("/fhir/Questionnaire", params={"name": "BARTS"})
    by_version = await client.get("/fhir/Questionnaire", params={"version": VERSION})
    retired = await client.get("/fhir/Questionnaire", params={"status": "retired"})

    assert [e["resource"]["id"] for e in by_name.json()["entry"]] == [BARTS_ID]
    assert by_version.json()["total"] == 2
    assert retired.json()["total"] == 0


async def test_search_refuses_an_unknown_parameter_only_when_strict(client):
    strict = await client.get(
        "/fhir/Questionnaire", params={"title": "x"}, headers={"Prefer": "handling=strict"}
    )
    lenient = await client.get("/fhir/Questionnaire", params={"title": "x"})

    assert strict.status_code == 400
    assert strict.json()["issue"][0]["expression"] == ["title"]
    assert lenient.status_code == 200
    outcome = lenient.json()["entry"][-1]
    assert outcome["search"]["mode"] == "outcome"
    assert outcome["resource"]["issue"][0]["expression"] == ["title"]


async def test_unknown_questionnaire_is_404(client):
    response = await client.get("/fhir/Questionnaire/nothing-here")

    assert response.status_code == 404
    assert response.json()["resourceType"] == "OperationOutcome"


async def test_capability_statement_lists_what_is_supported(client):
    body = (await client.get("/fhir/metadata")).json()

    resources = {r["type"]: r for r in body["rest"][0]["resource"]}
    assert set(resources) == {"Questionnaire", "QuestionnaireResponse", "Observation"}
    assert [p["name"] for p in resources["Questionnaire"]["searchParam"]] == [
        "_id",
        "url",
        "name",
        "version",
        "status",
    ]
    assert resources["QuestionnaireResponse"]["conditionalCreate"] is True


async def test_search_by_id_and_the_common_result_parameters(client):
    every = (await client.get("/fhir/Questionnaire")).json()
    first = every["entry"][0]["resource"]["id"]

    by_id = (await client.get("/fhir/Questionnaire", params={"_id": first})).json()
    counted = (await client.get("/fhir/Questionnaire", params={"_summary": "count"})).json()
    subset = (await client.get("/fhir/Questionnaire", params={"_elements": "name"})).json()

    assert [e["resource"]["id"] for e in by_id["entry"]] == [first]
    assert counted["total"] == every["total"]
    assert "entry" not in counted  # FHIR JSON has no empty arrays
    # status is kept unasked: FHIR R4 requires it of every Questionnaire.
    assert set(subset["entry"][0]["resource"]) == {"resourceType", "id", "meta", "name", "status"}
    assert subset["entry"][0]["resource"]["meta"]["tag"][-1]["code"] == "SUBSETTED"
