"""Builders for screening request bodies. Every person is synthetic (valid test NHS numbers)."""

import json
from pathlib import Path
from typing import Any

from signpost_schemas import systems

BARTS = "https://signpost.nhs.example/Questionnaire/barts-social-welfare-screening"
SHORT = "https://signpost.nhs.example/Questionnaire/basic-needs-short-screen"
VERSION = "2023.1"
CONTEXT = "https://signpost.nhs.example/StructureDefinition/screening-context"
OUTCOME = "https://signpost.nhs.example/StructureDefinition/screening-outcome"
CLINIC = "R1H12"
# The social-prescribing team the tests route CLINIC's referrals to (see conftest).
CLINIC_TEAM = "F84001"
RENDERER_EXPORTS = Path(__file__).parent / "fixtures" / "renderers"
NHS_NUMBER = "9434765919"

YES = {"system": "http://loinc.org", "code": "LA33-6", "display": "Yes"}
NO = {"system": "http://loinc.org", "code": "LA32-8", "display": "No"}
DECLINE = {"system": "http://loinc.org", "code": "LA30122-8", "display": "I don't want to answer"}
ANSWERS = {"yes": YES, "no": NO, "decline": DECLINE}

# Answers to items 1-6 that flag nothing (items 3 and 4 flag on "No").
NO_FLAGS = {"1": "no", "2": "no", "3": "yes", "4": "yes", "5": "no", "6": "no"}


def barts_answers(**changes: str) -> dict[str, str]:
    """Items 1-6 with no flag, changed by `item_<n>=...` (e.g. item_1="yes")."""
    answers = dict(NO_FLAGS)
    for key, value in changes.items():
        answers[key.removeprefix("item_")] = value
    return answers


def screening_response(
    answers: dict[str, str | list[str]] | None = None,
    *,
    questionnaire: str | None = f"{BARTS}|{VERSION}",
    status: str = "completed",
    nhs_number: str = NHS_NUMBER,
    clinic: str | None = CLINIC,
    pathway: str | None = "cardiology-outpatient",
    identifier: str | None = None,
    authored: str = "2026-11-02T09:30:00Z",
) -> dict[str, Any]:
    """A QuestionnaireResponse as a front end posts it; answers by linkId ("yes"/"no"/"decline",
    or a list for several answers)."""
    items = []
    for link_id, given in (answers if answers is not None else barts_answers()).items():
        values = given if isinstance(given, list) else [given]
        items.append(
            {
                "linkId": link_id,
                "answer": [{"valueCoding": dict(ANSWERS[value])} for value in values],
            }
        )
    body: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "status": status,
        "subject": {"identifier": {"system": systems.NHS_NUMBER, "value": nhs_number}},
        "authored": authored,
        "item": items,
    }
    if questionnaire is not None:
        body["questionnaire"] = questionnaire
    if clinic is not None:
        parts: list[dict[str, Any]] = [
            {
                "url": "clinic",
                "valueIdentifier": {"system": systems.ODS_ORGANIZATION, "value": clinic},
            }
        ]
        if pathway:
            parts.append({"url": "pathway", "valueCode": pathway})
        body["extension"] = [{"url": CONTEXT, "extension": parts}]
    if identifier is not None:
        body["identifier"] = {
            "system": "https://clinic-portal.example/response",
            "value": identifier,
        }
    return body


def outcome_of(body: dict[str, Any]) -> dict[str, Any]:
    """The screening-outcome extension of a served response, as a plain dict."""
    [extension] = [e for e in body.get("extension", []) if e["url"] == OUTCOME]
    result: dict[str, Any] = {"flags": []}
    for part in extension["extension"]:
        if part["url"] == "flag":
            result["flags"].append(part["valueCoding"]["code"])
        elif part["url"] == "referral":
            referral = {}
            for sub in part["extension"]:
                value = next(v for k, v in sub.items() if k.startswith("value"))
                referral[sub["url"]] = value
            result["referral"] = referral
        else:
            result[part["url"]] = next(v for k, v in part.items() if k.startswith("value"))
    return result


def invitation(
    *,
    questionnaire: str = f"{BARTS}|{VERSION}",
    clinic: str = CLINIC,
    pathway: str | None = "cardiology-outpatient",
    authored: str = "2026-11-01T09:00:00Z",
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceType": "Task",
        "status": "requested",
        "intent": "order",
        "code": {
            "coding": [
                {
                    "system": "http://hl7.org/fhir/uv/sdc/CodeSystem/temp",
                    "code": "complete-questionnaire",
                }
            ]
        },
        "for": {"identifier": {"system": systems.NHS_NUMBER, "value": NHS_NUMBER}},
        "authoredOn": authored,
        "requester": {"identifier": {"system": systems.ODS_ORGANIZATION, "value": clinic}},
        "input": [
            {
                "type": {
                    "coding": [
                        {
                            "system": "http://hl7.org/fhir/uv/sdc/CodeSystem/temp",
                            "code": "questionnaire",
                        }
                    ]
                },
                "valueCanonical": questionnaire,
            }
        ],
    }
    if pathway:
        body["extension"] = [
            {"url": CONTEXT, "extension": [{"url": "pathway", "valueCode": pathway}]}
        ]
    return body


def renderer_export(name: str) -> dict[str, Any]:
    """A QuestionnaireResponse exactly as LHC-Forms or Smart Forms exported it (captured from the
    real renderers by `python -m tests.renderers.capture`)."""
    export: dict[str, Any] = json.loads((RENDERER_EXPORTS / f"{name}.json").read_text())
    return export


def with_subject(export: dict[str, Any], nhs_number: str = NHS_NUMBER) -> dict[str, Any]:
    """What a front end adds to a renderer's export: only the person."""
    return {
        **export,
        "subject": {"identifier": {"system": systems.NHS_NUMBER, "value": nhs_number}},
    }


def pre_filled(export: dict[str, Any], nhs_number: str = NHS_NUMBER) -> dict[str, Any]:
    """A renderer's export of a form launched with the person (SDC launch context): the hidden
    NHS number item answered from the launch patient, as LHC-Forms exports it."""
    item = {"linkId": "nhs-number", "text": "NHS number", "answer": [{"valueString": nhs_number}]}
    return {**export, "item": [*export["item"], item]}
