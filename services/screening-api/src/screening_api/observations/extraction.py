"""Observation-based extraction (SDC): one Observation per answered question of a completed
response, shaped on the Gravity SDOH screening-response Observation with UK Core categories.

Category is `survey` (observation-category), plus `social-history` and the question's domain for
risk questions (chosen from the question, not the answer: a "No" to the food question is still
about food). UK Core profiles classify questionnaire-derived scores as `survey` and social
circumstances as `social-history` (UKCore-Observation-EarlyWarningTotalScore,
UKCore-Observation-AlcoholConsumption); US Core's `sdoh` category is not used. The value is the
questionnaire's answer coding, with the code system's display whatever display the sender sent.
`interpretation` is POS only on a flag answer, never NEG; "I choose not to answer this question"
is recorded as given, unflagged.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from screening_api.questionnaires.tools import OBSERVATION_CATEGORY, ScreeningTool
from signpost_platform.fhir.responses import instant
from signpost_schemas import codes, systems
from signpost_schemas.codes import Concept
from signpost_schemas.questionnaire import ResponseAnswer

INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
SCREENING_OBSERVATION_PROFILE = (
    f"{systems.LOCAL_BASE}/StructureDefinition/ScreeningResponseObservation"
)


@dataclass(frozen=True, slots=True)
class ExtractedObservation:
    id: str
    link_id: str
    code_system: str
    code: str
    domain_code: str | None
    is_positive: bool
    resource: str


def _lookup(system: str, code: str) -> Concept:
    concept = codes.screening_answers().get(system, code)
    assert concept is not None, f"{system}|{code} missing from the screening-answers code list"
    return concept


def extract_observations(
    tool: ScreeningTool,
    answers: dict[str, list[ResponseAnswer]],
    *,
    response_id: str,
    nhs_number: str,
    effective_at: datetime,
    recorded_at: datetime,
) -> list[ExtractedObservation]:
    """The Observations of a completed response, in question order."""
    survey = _lookup(OBSERVATION_CATEGORY, "survey").coding()
    social_history = _lookup(OBSERVATION_CATEGORY, "social-history").coding()
    positive = _lookup(INTERPRETATION, "POS").coding()
    extracted = []
    for item in tool.items:
        offered = {option.code: option for option in item.answers}
        for answer in answers.get(item.link_id, []):
            given = answer.valueCoding
            coding = offered.get(given.code) if given is not None and given.code else None
            if coding is None:
                continue
            observation_id = str(uuid.uuid4())
            is_flag = item.flag_answer is not None and coding.code == item.flag_answer
            categories: list[dict[str, Any]] = [{"coding": [survey]}]
            if item.category is not None:
                domain: dict[str, Any] = {"coding": [item.category.to_fhir()]}
                if item.category_text:
                    domain["text"] = item.category_text
                categories += [{"coding": [social_history]}, domain]
            resource: dict[str, Any] = {
                "resourceType": "Observation",
                "id": observation_id,
                "meta": {
                    "versionId": "1",
                    "lastUpdated": instant(recorded_at),
                    "profile": [SCREENING_OBSERVATION_PROFILE],
                },
                "status": "final",
                "category": categories,
                "code": {"coding": [item.code.to_fhir()], "text": item.text},
                "subject": {"identifier": {"system": systems.NHS_NUMBER, "value": nhs_number}},
                "effectiveDateTime": instant(effective_at),
                "issued": instant(recorded_at),
                "valueCodeableConcept": {"coding": [coding.to_fhir()]},
                "derivedFrom": [{"reference": f"QuestionnaireResponse/{response_id}"}],
            }
            if is_flag:
                resource["interpretation"] = [{"coding": [positive]}]
            extracted.append(
                ExtractedObservation(
                    id=observation_id,
                    link_id=item.link_id,
                    code_system=str(item.code.system),
                    code=str(item.code.code),
                    domain_code=item.category.code if item.category else None,
                    is_positive=is_flag,
                    resource=orjson.dumps(resource).decode(),
                )
            )
    return extracted
