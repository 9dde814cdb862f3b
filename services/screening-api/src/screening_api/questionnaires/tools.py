"""Screening tools: the Questionnaire each one is served as, and the rules that score a response.

Tools are package data (`data/screening-tools.yaml`). Every code a tool names is looked up in the
shared code lists (answers carry the code system's own display from there), and every
Questionnaire built is checked against the R4 invariants, so a mistake in the data stops the
service at start-up instead of reaching a renderer.

Every Questionnaire also declares the SDC launch context `patient` and ends with a hidden,
read-only `nhs-number` item whose initialExpression reads the launch patient's NHS number: a
front end that launches the form with the person (SDC expression-based population) gets the NHS
number in the response without asking for it. The item is not a question of the tool: it is
not scored, extracted or counted.
"""

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import orjson
import yaml

from signpost_schemas import codes, systems
from signpost_schemas.codes import CodeList, Concept
from signpost_schemas.fhir import profiles
from signpost_schemas.fhir.datatypes import Coding
from signpost_schemas.fhir.screening_response import NHS_NUMBER_LINK_ID
from signpost_schemas.questionnaire import (
    Questionnaire,
    ResponseAnswer,
    questionnaire_issues,
)

SDC = "http://hl7.org/fhir/uv/sdc"
SDC_QUESTIONNAIRE_PROFILE = f"{SDC}/StructureDefinition/sdc-questionnaire"
# Expression-based population: the form pre-fills from the launch context.
SDC_POPULATION_PROFILE = f"{SDC}/StructureDefinition/sdc-questionnaire-pop-exp"
LAUNCH_CONTEXT_EXTENSION = f"{SDC}/StructureDefinition/sdc-questionnaire-launchContext"
LAUNCH_CONTEXT_SYSTEM = f"{SDC}/CodeSystem/launchContext"
INITIAL_EXPRESSION_EXTENSION = f"{SDC}/StructureDefinition/sdc-questionnaire-initialExpression"
HIDDEN_EXTENSION = "http://hl7.org/fhir/StructureDefinition/questionnaire-hidden"
ITEM_CONTROL_EXTENSION = "http://hl7.org/fhir/StructureDefinition/questionnaire-itemControl"
ITEM_CONTROL_SYSTEM = "http://hl7.org/fhir/questionnaire-item-control"
OBSERVATION_CATEGORY = profiles.OBSERVATION_CATEGORY
INSTRUMENT_SYSTEM = f"{systems.LOCAL_BASE}/CodeSystem/screening-instrument"
NHS_NUMBER_TEXT = "NHS number"
NHS_NUMBER_EXPRESSION = f"%patient.identifier.where(system='{systems.NHS_NUMBER}').value.first()"


class ToolDefinitionError(ValueError):
    """The screening-tool data names a code or shape the service cannot serve."""


@dataclass(frozen=True, slots=True)
class ScreeningItem:
    """One question of a tool and what its answers mean."""

    link_id: str
    code: Coding
    text: str
    answers: tuple[Coding, ...]
    flag_answer: str | None
    domain: str | None
    category: Coding | None
    category_text: str | None
    referral_reason: Concept | None
    wants_help_answer: str | None
    # A flag here makes the referral urgent (item 5 of the Barts tool: "Do you ever feel unsafe?").
    urgent_referral: bool = False

    @property
    def is_risk_item(self) -> bool:
        return self.flag_answer is not None


@dataclass(frozen=True, slots=True)
class Flag:
    """A risk item answered with its flag answer."""

    link_id: str
    domain: str
    referral_reason: Concept | None
    text: str
    urgent_referral: bool = False


@dataclass(frozen=True, slots=True)
class Screen:
    """What a completed response says: flags, screen positive, wants help."""

    flags: tuple[Flag, ...]
    wants_help: bool | None

    @property
    def screen_positive(self) -> bool:
        return bool(self.flags)

    @property
    def raise_referral(self) -> bool:
        return self.screen_positive and self.wants_help is True

    @property
    def urgent(self) -> bool:
        """A flag the receiving team must see first (a safety concern)."""
        return any(flag.urgent_referral for flag in self.flags)


@dataclass(frozen=True, slots=True)
class ScreeningTool:
    """A screening questionnaire at one version, served and scored."""

    id: str
    # The tool's slug (`barts-social-welfare-screening`): its id and instrument code derive from
    # it; Questionnaire.name is `computable_name` (`BartsSocialWelfareScreening`).
    name: str
    computable_name: str
    url: str
    version: str
    status: str
    title: str
    declined_answer: str
    items: tuple[ScreeningItem, ...]
    questionnaire: Questionnaire
    resource: dict[str, Any]
    resource_json: bytes

    @property
    def canonical(self) -> str:
        return f"{self.url}|{self.version}"

    def item(self, link_id: str) -> ScreeningItem | None:
        return next((item for item in self.items if item.link_id == link_id), None)

    def score(self, answers: dict[str, list[ResponseAnswer]]) -> Screen:
        """Read a validated response's answers ("I don't want to answer" is never a flag)."""
        flags: list[Flag] = []
        wants_help: bool | None = None
        for item in self.items:
            given = _answer_codes(answers.get(item.link_id, []))
            if item.flag_answer is not None and item.flag_answer in given:
                assert item.domain is not None
                flags.append(
                    Flag(
                        item.link_id,
                        item.domain,
                        item.referral_reason,
                        item.text,
                        item.urgent_referral,
                    )
                )
            if item.wants_help_answer is not None and given and self.declined_answer not in given:
                wants_help = item.wants_help_answer in given
        return Screen(tuple(flags), wants_help)


def _answer_codes(answers: list[ResponseAnswer]) -> set[str]:
    return {a.valueCoding.code for a in answers if a.valueCoding and a.valueCoding.code}


@cache
def packaged_tools() -> tuple[ScreeningTool, ...]:
    """The tools shipped with the service (loaded and checked once)."""
    text = (
        resources.files("screening_api.questionnaires")
        .joinpath("data", "screening-tools.yaml")
        .read_text(encoding="utf-8")
    )
    return load_tools(yaml.safe_load(text))


def load_tools(document: dict[str, Any]) -> tuple[ScreeningTool, ...]:
    """Build every tool of a tools document (the shape of `data/screening-tools.yaml`)."""
    item_system = document["item_code_system"]
    domain_system = document["domain_code_system"]
    return tuple(_build_tool(tool, item_system, domain_system) for tool in document["tools"])


def _concept(code_list: CodeList, system: str, code: str, where: str) -> Concept:
    concept = code_list.get(system, code)
    if concept is None:
        raise ToolDefinitionError(f"{where}: {system}|{code} is not in the {code_list.name} list")
    return concept


def computable_name(slug: str) -> str:
    """`barts-social-welfare-screening` -> `BartsSocialWelfareScreening` (que-0)."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", slug))


def _build_tool(tool: dict[str, Any], item_system: str, domain_system: str) -> ScreeningTool:
    name = tool["name"]
    answer_list = codes.screening_answers()
    answers = {}
    for answer in tool["answers"]:
        # The code system's own display (LOINC's for the LA answer codes), from the code list.
        concept = _concept(answer_list, answer["system"], answer["code"], f"{name} answers")
        answers[answer["code"]] = Coding(
            system=concept.system, code=concept.code, display=concept.display
        )
    items = []
    for raw in tool["items"]:
        where = f"{name} item {raw['link_id']}"
        offered = tuple(answers[code] for code in raw.get("answers", list(answers)))
        for key in ("flag_answer", "wants_help_answer"):
            if raw.get(key) is not None and raw[key] not in {c.code for c in offered}:
                raise ToolDefinitionError(f"{where}: {key} {raw[key]} is not an offered answer")
        category = None
        if "category" in raw:
            concept = _concept(answer_list, domain_system, raw["category"]["code"], where)
            category = Coding(system=concept.system, code=concept.code, display=concept.display)
        reason = None
        if "referral_reason" in raw:
            reason = _concept(
                codes.referral_reasons(),
                raw["referral_reason"]["system"],
                raw["referral_reason"]["code"],
                where,
            )
        items.append(
            ScreeningItem(
                link_id=raw["link_id"],
                code=Coding(system=item_system, code=raw["code"], display=raw["text"]),
                text=raw["text"],
                answers=offered,
                flag_answer=raw.get("flag_answer"),
                domain=raw.get("domain"),
                category=category,
                category_text=raw.get("category", {}).get("text"),
                referral_reason=reason,
                wants_help_answer=raw.get("wants_help_answer"),
                urgent_referral=bool(raw.get("urgent_referral", False)),
            )
        )
    resource = _questionnaire_resource(tool, items)
    questionnaire = Questionnaire.model_validate(resource)
    if issues := questionnaire_issues(questionnaire):
        raise ToolDefinitionError(f"{name}: " + "; ".join(i.diagnostics for i in issues))
    return ScreeningTool(
        id=resource["id"],
        name=name,
        computable_name=resource["name"],
        url=tool["url"],
        version=tool["version"],
        status=tool["status"],
        title=tool["title"],
        declined_answer=tool["declined_answer"],
        items=tuple(items),
        questionnaire=questionnaire,
        resource=resource,
        resource_json=orjson.dumps(resource),
    )


def _questionnaire_resource(tool: dict[str, Any], items: list[ScreeningItem]) -> dict[str, Any]:
    """The FHIR R4 (SDC) Questionnaire of a tool: coded items, coded answers, radio buttons."""
    risk_items = [item for item in items if item.is_risk_item]
    raw_items = {raw["link_id"]: raw for raw in tool["items"]}
    fhir_items = []
    for item in items:
        fhir_item: dict[str, Any] = {
            "extension": [
                {
                    "url": ITEM_CONTROL_EXTENSION,
                    "valueCodeableConcept": {
                        "coding": [
                            {
                                "system": ITEM_CONTROL_SYSTEM,
                                "code": "radio-button",
                                "display": "Radio Button",
                            }
                        ]
                    },
                }
            ],
            "linkId": item.link_id,
            "code": [item.code.to_fhir()],
            "text": item.text,
            "type": "choice",
            "required": True,
        }
        if raw_items[item.link_id].get("enabled_when_any_flag"):
            fhir_item["enableWhen"] = [
                {
                    "question": risk.link_id,
                    "operator": "=",
                    "answerCoding": next(
                        c for c in risk.answers if c.code == risk.flag_answer
                    ).to_fhir(),
                }
                for risk in risk_items
            ]
            if len(risk_items) > 1:
                fhir_item["enableBehavior"] = "any"
        fhir_item["answerOption"] = [{"valueCoding": answer.to_fhir()} for answer in item.answers]
        if help_text := raw_items[item.link_id].get("help_text"):
            fhir_item["item"] = [
                {
                    "extension": [
                        {
                            "url": ITEM_CONTROL_EXTENSION,
                            "valueCodeableConcept": {
                                "coding": [
                                    {
                                        "system": ITEM_CONTROL_SYSTEM,
                                        "code": "help",
                                        "display": "Help-Button",
                                    }
                                ]
                            },
                        }
                    ],
                    "linkId": f"{item.link_id}-help",
                    "text": help_text.strip(),
                    "type": "display",
                }
            ]
        fhir_items.append(fhir_item)
    fhir_items.append(NHS_NUMBER_ITEM)
    return {
        "resourceType": "Questionnaire",
        "id": f"{tool['name']}-{tool['version']}",
        "meta": {"profile": [SDC_QUESTIONNAIRE_PROFILE, SDC_POPULATION_PROFILE]},
        "extension": [PATIENT_LAUNCH_CONTEXT],
        "url": tool["url"],
        "version": tool["version"],
        "name": computable_name(tool["name"]),
        "title": tool["title"],
        "status": tool["status"],
        "subjectType": ["Patient"],
        "date": tool["date"],
        "publisher": tool["publisher"],
        "description": " ".join(tool["description"].split()),
        "code": [{"system": INSTRUMENT_SYSTEM, "code": tool["name"], "display": tool["title"]}],
        "item": fhir_items,
    }


# SDC launch context: the person being screened, as the Patient the form is launched with.
PATIENT_LAUNCH_CONTEXT: dict[str, Any] = {
    "url": LAUNCH_CONTEXT_EXTENSION,
    "extension": [
        {
            "url": "name",
            "valueCoding": {
                "system": LAUNCH_CONTEXT_SYSTEM,
                "code": "patient",
                "display": "Patient",
            },
        },
        {"url": "type", "valueCode": "Patient"},
        {
            "url": "description",
            "valueString": "The person being screened: their NHS number pre-fills the "
            f"{NHS_NUMBER_LINK_ID} item",
        },
    ],
}

# Hidden and read-only: the person never sees or edits it; it travels with the response.
NHS_NUMBER_ITEM: dict[str, Any] = {
    "extension": [
        {"url": HIDDEN_EXTENSION, "valueBoolean": True},
        {
            "url": INITIAL_EXPRESSION_EXTENSION,
            "valueExpression": {
                "description": "The launch patient's NHS number",
                "language": "text/fhirpath",
                "expression": NHS_NUMBER_EXPRESSION,
            },
        },
    ],
    "linkId": NHS_NUMBER_LINK_ID,
    "text": NHS_NUMBER_TEXT,
    "type": "string",
    "required": False,
    "readOnly": True,
    "maxLength": 10,
}
