"""Front ends as they are: what LHC-Forms and Smart Forms export is accepted with only the person
added; the clinic comes from the caller's token or `author`; demographics ride in a contained
Patient; the screen's own date counts."""

from datetime import UTC, datetime, timedelta

import pytest

from signpost_schemas import systems
from signpost_schemas.fhir import profiles
from tests.screening.builders import (
    CLINIC,
    CONTEXT,
    NHS_NUMBER,
    RENDERER_EXPORTS,
    barts_answers,
    outcome_of,
    pre_filled,
    renderer_export,
    screening_response,
    with_subject,
)
from tests.screening.conftest import WRITE
from tests.support.clients import bearer
from tests.support.rows import fetch_rows

EXPORTS = sorted(path.stem for path in RENDERER_EXPORTS.glob("*.json"))
# What each captured export says (see tests/renderers/capture.py for the answers clicked).
EXPECTED = {
    "lforms-barts-feels-unsafe": (["financial-insecurity", "personal-safety"], "pending"),
    "lforms-barts-finance": (["financial-insecurity"], "pending"),
    "lforms-barts-negative": ([], "not-needed"),
    "lforms-short-positive": (["material-hardship"], "pending"),
    "smartforms-barts-feels-unsafe": (
        ["food-insecurity", "social-connection", "personal-safety"],
        "pending",
    ),
    "smartforms-barts-food-housing": (["food-insecurity", "housing-instability"], "pending"),
    "smartforms-short-positive": (["material-hardship"], "pending"),
}
OTHER_CLINIC = "RQM01"


def clinic_token(ods: str = CLINIC) -> dict[str, str]:
    """A front end acting for one clinic: its token names the clinic (the ODS claim)."""
    return bearer("screening:write", "screening:read", ods=ods)


def author(ods: str) -> dict[str, object]:
    return {
        "type": "Organization",
        "identifier": {"system": systems.ODS_ORGANIZATION, "value": ods},
    }


async def _clinic_of(app, response_id: str) -> str:
    [row] = await fetch_rows(
        app, "SELECT clinic_ods FROM questionnaire_response WHERE id = :id", id=response_id
    )
    return str(row["clinic_ods"])


def test_exports_of_both_renderers_were_captured():
    assert {name.split("-")[0] for name in EXPORTS} == {"lforms", "smartforms"}
    assert set(EXPORTS) == set(EXPECTED)


@pytest.mark.parametrize("name", EXPORTS)
async def test_a_renderer_export_is_accepted_with_only_the_subject_added(
    client, screening_app, name
):
    exported = renderer_export(name)
    assert "extension" not in exported and "author" not in exported

    response = await client.post(
        "/fhir/QuestionnaireResponse", json=with_subject(exported), headers=clinic_token()
    )

    assert response.status_code == 201, response.text
    body = response.json()
    flags, state = EXPECTED[name]
    outcome = outcome_of(body)
    assert (outcome["flags"], outcome["referral"]["state"]) == (flags, state)
    assert [item["linkId"] for item in body["item"]] == [i["linkId"] for i in exported["item"]]
    # Filed under the token's clinic, which the served response names as its author.
    assert await _clinic_of(screening_app, body["id"]) == CLINIC
    assert body["author"] == author(CLINIC)


async def test_a_form_pre_filled_from_the_launch_patient_names_the_person(client, screening_app):
    exported = pre_filled(renderer_export("lforms-barts-finance"))
    assert "subject" not in exported

    response = await client.post(
        "/fhir/QuestionnaireResponse", json=exported, headers=clinic_token()
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["subject"] == {"identifier": {"system": systems.NHS_NUMBER, "value": NHS_NUMBER}}
    assert body["item"][-1] == exported["item"][-1]
    assert outcome_of(body)["referral"]["state"] == "pending"
    [row] = await fetch_rows(
        screening_app,
        "SELECT nhs_number FROM questionnaire_response WHERE id = :id",
        id=body["id"],
    )
    assert row["nhs_number"] == NHS_NUMBER
    # The NHS number item is not a question: no Observation of its own.
    linked = await fetch_rows(
        screening_app, "SELECT link_id FROM observation WHERE response_id = :id", id=body["id"]
    )
    assert "nhs-number" not in {r["link_id"] for r in linked} and len(linked) == 7


async def test_a_pre_filled_nhs_number_agreeing_with_the_subject_is_accepted(client):
    exported = with_subject(pre_filled(renderer_export("lforms-barts-negative")))

    response = await client.post(
        "/fhir/QuestionnaireResponse", json=exported, headers=clinic_token()
    )

    assert response.status_code == 201, response.text


async def test_author_names_the_clinic_for_a_front_end_serving_many(client, screening_app):
    body = with_subject(renderer_export("smartforms-barts-food-housing"))
    body["author"] = author("rqm01")

    response = await client.post("/fhir/QuestionnaireResponse", json=body, headers=WRITE)

    assert response.status_code == 201, response.text
    assert await _clinic_of(screening_app, response.json()["id"]) == OTHER_CLINIC


async def test_a_clinic_may_not_file_for_another_clinic_by_author(client):
    body = with_subject(renderer_export("lforms-barts-finance"))
    body["author"] = author(OTHER_CLINIC)

    response = await client.post("/fhir/QuestionnaireResponse", json=body, headers=clinic_token())

    assert response.status_code == 403
    assert response.json()["issue"][0]["expression"] == ["QuestionnaireResponse.author"]


async def test_the_screening_context_extension_is_still_honoured(client, screening_app):
    body = screening_response(clinic=OTHER_CLINIC)

    own = await client.post("/fhir/QuestionnaireResponse", json=body, headers=WRITE)
    foreign = await client.post("/fhir/QuestionnaireResponse", json=body, headers=clinic_token())

    assert own.status_code == 201
    assert await _clinic_of(screening_app, own.json()["id"]) == OTHER_CLINIC
    assert "author" not in own.json()
    assert foreign.status_code == 403
    assert foreign.json()["issue"][0]["expression"][0].startswith("QuestionnaireResponse.extension")


async def test_a_pathway_alone_leaves_the_clinic_to_the_token(client, screening_app):
    body = with_subject(renderer_export("lforms-barts-negative"))
    body["extension"] = [
        {"url": CONTEXT, "extension": [{"url": "pathway", "valueCode": "renal-dialysis"}]}
    ]

    response = await client.post("/fhir/QuestionnaireResponse", json=body, headers=clinic_token())

    assert response.status_code == 201, response.text
    [row] = await fetch_rows(
        screening_app, "SELECT clinic_ods, pathway FROM questionnaire_response"
    )
    assert row == {"clinic_ods": CLINIC, "pathway": "renal-dialysis"}


async def test_author_and_extension_naming_different_clinics_is_refused(client):
    body = screening_response(clinic=CLINIC)
    body["author"] = author(OTHER_CLINIC)

    response = await client.post("/fhir/QuestionnaireResponse", json=body, headers=WRITE)

    assert response.status_code == 422
    assert [i["expression"] for i in response.json()["issue"]] == [["QuestionnaireResponse.author"]]


async def test_an_author_that_is_not_an_organisation_names_no_clinic(client):
    body = with_subject(renderer_export("lforms-barts-negative"))
    body["author"] = {"reference": "Practitioner/abc", "display": "Nurse"}

    without_clinic = await client.post("/fhir/QuestionnaireResponse", json=body, headers=WRITE)
    with_clinic = await client.post(
        "/fhir/QuestionnaireResponse", json=body, headers=clinic_token()
    )

    assert without_clinic.status_code == 422
    assert without_clinic.json()["issue"][0]["expression"] == ["QuestionnaireResponse.author"]
    assert with_clinic.status_code == 201
    assert with_clinic.json()["author"] == body["author"]  # the sender's own author is kept


async def test_a_screen_dated_beyond_the_clock_skew_is_refused(client):
    future = (datetime.now(UTC) + timedelta(days=2)).isoformat().replace("+00:00", "Z")
    body = screening_response(authored=future)

    response = await client.post("/fhir/QuestionnaireResponse", json=body, headers=WRITE)

    assert response.status_code == 422
    assert response.json()["issue"][0]["expression"] == ["QuestionnaireResponse.authored"]


async def test_a_screen_dated_slightly_ahead_counts_from_its_receipt(client, screening_app):
    ahead = (datetime.now(UTC) + timedelta(hours=2)).isoformat().replace("+00:00", "Z")
    before = datetime.now(UTC)

    response = await client.post(
        "/fhir/QuestionnaireResponse", json=screening_response(authored=ahead), headers=WRITE
    )

    assert response.status_code == 201
    [row] = await fetch_rows(screening_app, "SELECT completed_at FROM questionnaire_response")
    completed_at = _aware(row["completed_at"])
    assert before <= completed_at <= datetime.now(UTC)


async def test_a_screen_is_counted_when_it_was_given(client, screening_app):
    given = datetime.now(UTC) - timedelta(days=40)
    authored = given.isoformat().replace("+00:00", "Z")

    await client.post(
        "/fhir/QuestionnaireResponse", json=screening_response(authored=authored), headers=WRITE
    )

    [row] = await fetch_rows(screening_app, "SELECT completed_at FROM questionnaire_response")
    assert _aware(row["completed_at"]) == given


def patient(**changes: object) -> dict[str, object]:
    """A contained Patient as a front end adds it (synthetic person)."""
    return {
        "resourceType": "Patient",
        "id": "person",
        "name": [{"family": "Example", "given": ["Alex"]}],
        "telecom": [{"system": "phone", "value": "07700 900123"}],
        "gender": "female",
        "birthDate": "1961-04-12",
        "address": [{"line": ["1 Example Street"], "postalCode": "E15 1DA"}],
        "extension": [
            {
                "url": profiles.ETHNIC_CATEGORY_EXTENSION,
                "valueCodeableConcept": {
                    "coding": [{"system": profiles.ETHNIC_CATEGORY_ENGLAND, "code": "A"}]
                },
            }
        ],
        **changes,
    }


def with_person(export: dict[str, object], **changes: object) -> dict[str, object]:
    body = with_subject(export)
    body["contained"] = [patient(**changes)]
    body["subject"] = {**body["subject"], "reference": "#person"}  # type: ignore[dict-item]
    return body


async def test_a_contained_patient_is_kept_without_names_or_address_lines(client):
    body = with_person(renderer_export("lforms-barts-finance"))

    response = await client.post("/fhir/QuestionnaireResponse", json=body, headers=clinic_token())

    assert response.status_code == 201, response.text
    [person] = response.json()["contained"]
    assert person == {
        "resourceType": "Patient",
        "id": "person",
        "extension": patient()["extension"],
        "identifier": [{"system": systems.NHS_NUMBER, "value": NHS_NUMBER}],
        "gender": "female",
        "birthDate": "1961-04-12",
        "address": [{"postalCode": "E15 1DA"}],
    }


@pytest.mark.parametrize(
    ("changes", "expression"),
    [
        (
            {"identifier": [{"system": systems.NHS_NUMBER, "value": "9000000009"}]},
            "QuestionnaireResponse.contained[0].identifier",
        ),
        ({"id": "someone-else"}, "QuestionnaireResponse.subject.reference"),
        ({"birthDate": "1961-02-31"}, "QuestionnaireResponse.contained[0].birthDate"),
    ],
)
async def test_a_contained_patient_that_is_not_the_subject_is_refused(
    client, screening_app, changes, expression
):
    body = with_person(renderer_export("lforms-barts-finance"), **changes)

    response = await client.post("/fhir/QuestionnaireResponse", json=body, headers=clinic_token())

    assert response.status_code in (400, 422), response.text
    assert expression in [e for i in response.json()["issue"] for e in i["expression"]]
    assert await fetch_rows(screening_app, "SELECT id FROM questionnaire_response") == []


async def test_a_referral_goes_to_the_clinics_team_dated_by_the_screen_with_the_person(
    client, screening_app, worker, referral_backend
):
    """End to end, through the real referral-api: an LHC-Forms screen flagging "Do you ever feel
    unsafe?", sent with a clinic's token, becomes an urgent referral that the clinic's
    social-prescribing team finds in its own queue."""
    exported = renderer_export("lforms-barts-feels-unsafe")
    body = with_person(exported)

    submitted = await client.post("/fhir/QuestionnaireResponse", json=body, headers=clinic_token())
    assert submitted.status_code == 201, submitted.text
    response_id = submitted.json()["id"]
    await worker.deliver_due()

    referral_app, referral_client = referral_backend
    team = bearer("referral:read", ods="F84001")
    queue = await referral_client.get(
        "/fhir/ServiceRequest", params={"performer": "F84001", "priority": "urgent"}, headers=team
    )
    assert queue.status_code == 200
    [entry] = queue.json()["entry"]
    referral = entry["resource"]
    assert referral["identifier"] == [{"system": systems.SCREENING_RESPONSE, "value": response_id}]
    assert referral["performer"][0]["identifier"]["value"] == "F84001"
    assert referral["requester"]["identifier"]["value"] == CLINIC
    assert _aware(referral["authoredOn"]) == _aware(exported["authored"])
    assert referral["priority"] == "urgent"
    assert {c["code"] for concept in referral["category"] for c in concept["coding"]} == {
        "410606002",
        "safety-concern",
    }
    assert [r["coding"][0]["code"] for r in referral["reasonCode"]] == [
        "160932005",
        "personal-safety-concern",
    ]
    [person] = await fetch_rows(
        referral_app,
        "SELECT gender, birth_year, postcode_district, ethnic_category FROM referral_person "
        "WHERE referral_id = :id",
        id=referral["id"],
    )
    assert person == {
        "gender": "female",
        "birth_year": 1961,
        "postcode_district": "E15",
        "ethnic_category": "A",
    }
    # Another team's queue does not show it.
    elsewhere = await referral_client.get(
        "/fhir/ServiceRequest",
        params={"priority": "urgent"},
        headers=bearer("referral:read", ods="F84002"),
    )
    assert elsewhere.json()["total"] == 0
    [row] = await fetch_rows(screening_app, "SELECT state, referral_id FROM referral_handoff")
    assert row == {"state": "sent", "referral_id": referral["id"]}


async def test_a_smart_forms_screen_flagging_item_5_is_urgent(client, worker, referral_client):
    body = with_subject(renderer_export("smartforms-barts-feels-unsafe"))
    before = datetime.now(UTC)

    submitted = await client.post("/fhir/QuestionnaireResponse", json=body, headers=clinic_token())
    await worker.deliver_due()

    team = bearer("referral:read", ods="F84001")
    [entry] = (
        await referral_client.get(
            "/fhir/ServiceRequest", params={"priority": "urgent"}, headers=team
        )
    ).json()["entry"]
    referral = entry["resource"]
    assert referral["identifier"][0]["value"] == submitted.json()["id"]
    # Smart Forms exports no `authored`: the screen is dated by its receipt.
    assert before <= _aware(referral["authoredOn"]) <= datetime.now(UTC)


async def test_a_screen_without_item_5_is_routine(client, worker, referral_client):
    body = with_subject(renderer_export("lforms-barts-finance"))

    await client.post("/fhir/QuestionnaireResponse", json=body, headers=clinic_token())
    await worker.deliver_due()

    team = bearer("referral:read", ods="F84001")
    urgent = await referral_client.get(
        "/fhir/ServiceRequest", params={"priority": "urgent"}, headers=team
    )
    routine = await referral_client.get(
        "/fhir/ServiceRequest", params={"priority": "routine"}, headers=team
    )
    assert urgent.json()["total"] == 0
    [entry] = routine.json()["entry"]
    assert [c["coding"][0]["code"] for c in entry["resource"]["category"]] == ["410606002"]


async def test_a_clinic_without_a_route_is_referred_with_no_receiving_team(
    client, worker, referral_client
):
    body = screening_response(barts_answers(item_1="yes") | {"7": "yes"}, clinic=OTHER_CLINIC)

    await client.post("/fhir/QuestionnaireResponse", json=body, headers=WRITE)
    await worker.deliver_due()

    [entry] = (
        await referral_client.get(
            "/fhir/ServiceRequest", headers=bearer("referral:read", ods=OTHER_CLINIC)
        )
    ).json()["entry"]
    assert "performer" not in entry["resource"]


def _aware(value: object) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    assert isinstance(value, datetime)
    return value if value.tzinfo else value.replace(tzinfo=UTC)
