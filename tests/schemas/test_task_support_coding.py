"""Support offered (Task.output.type): listed codes, any SNOMED CT concept id, or refused."""

import copy

import pytest
from pydantic import ValidationError

from signpost_schemas import systems
from signpost_schemas.fhir.gaps import GapKind
from signpost_schemas.fhir.task import ReferralTask
from tests.support.messages import support, task


def _with_type(coding: dict) -> dict:
    output = support("housing-advice")
    output["type"] = {"coding": [coding]}
    output["valueCodeableConcept"] = copy.deepcopy(output["type"])
    return task(
        "t1", "in-progress", accepted="2026-10-02", outputs=[support("debt-advice"), output]
    )


def test_a_snomed_support_code_outside_the_list_is_kept_unmapped_with_a_gap():
    context: dict = {"gaps": []}
    body = _with_type(
        {"system": systems.SNOMED, "code": "410606002", "display": "Social service procedure"}
    )

    resource = ReferralTask.model_validate(body, context=context)

    assert [(o.support.code, o.support.group) for o in resource.output or []] == [
        ("debt-advice", "finance"),
        ("410606002", "unmapped"),
    ]
    assert [(g.kind, g.code) for g in context["gaps"]] == [
        (GapKind.UNMAPPED_CODE, f"{systems.SNOMED}|410606002")
    ]


@pytest.mark.parametrize(
    "coding",
    [
        {"system": systems.SNOMED, "code": "410606003"},  # wrong check digit
        {"system": systems.SUPPORT_OFFERED, "code": "spa-day"},
    ],
    ids=["malformed SNOMED CT", "outside the list"],
)
def test_other_support_codes_are_refused_naming_the_output(coding):
    with pytest.raises(ValidationError) as raised:
        ReferralTask.model_validate(_with_type(coding))

    [error] = raised.value.errors()
    assert error["type"] == "code_invalid"
    assert error["loc"][:3] == ("output", 1, "type")
