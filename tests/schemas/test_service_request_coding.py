"""The ServiceRequest profile's reason and source coding: what is kept, grouped, or refused."""

import pytest
from pydantic import ValidationError

from signpost_schemas import systems
from signpost_schemas.fhir.gaps import GapKind
from signpost_schemas.fhir.service_request import ServiceRequest
from tests.support.builders import reason, service_request


def _validate(body: dict) -> tuple[ServiceRequest, list]:
    context: dict = {"gaps": []}
    return ServiceRequest.model_validate(body, context=context), context["gaps"]


def test_unlisted_snomed_reasons_are_kept_unmapped_with_a_gap_each():
    resource, gaps = _validate(
        service_request(reasons=[reason("366979004"), reason("105531004"), reason("129839007")])
    )

    assert [(r.code, r.group, r.listed) for r in resource.reasons] == [
        ("366979004", "unmapped", False),
        ("105531004", "housing", True),
        ("129839007", "unmapped", False),
    ]
    assert [(g.kind, g.element, g.code) for g in gaps] == [
        (GapKind.UNMAPPED_CODE, "ServiceRequest.reasonCode[0]", f"{systems.SNOMED}|366979004"),
        (GapKind.UNMAPPED_CODE, "ServiceRequest.reasonCode[2]", f"{systems.SNOMED}|129839007"),
    ]


def test_a_text_only_reason_is_kept_uncoded_with_a_gap():
    resource, gaps = _validate(service_request(reasons=[{"text": "Money worries"}]))

    [kept] = resource.reasons
    assert (kept.system, kept.code, kept.group, kept.text) == (
        None,
        None,
        "uncoded",
        "Money worries",
    )
    assert [(g.kind, g.element) for g in gaps] == [
        (GapKind.UNCODED_TEXT, "ServiceRequest.reasonCode[0]")
    ]


def test_a_listed_coding_is_preferred_to_an_unlisted_snomed_one_in_the_same_reason():
    concept = {
        "coding": [
            {"system": systems.SNOMED, "code": "366979004"},
            {"system": systems.SNOMED, "code": "73595000"},
        ]
    }
    resource, gaps = _validate(service_request(reasons=[concept]))

    assert [(r.code, r.group) for r in resource.reasons] == [("73595000", "mental-wellbeing")]
    assert gaps == []


def test_an_unlisted_snomed_source_of_referral_is_kept_unmapped_with_a_gap():
    resource, gaps = _validate(service_request(source=(systems.SNOMED, "3457005")))

    assert (resource.source_of_referral.code, resource.source_of_referral.group) == (
        "3457005",
        "unmapped",
    )
    assert [(g.kind, g.element) for g in gaps] == [
        (GapKind.UNMAPPED_CODE, "ServiceRequest.extension[0].valueCodeableConcept")
    ]


def test_local_codes_work_as_before():
    body = service_request(
        source=(systems.SOURCE_OF_REFERRAL, "gp-practice"),
        reasons=[reason("low-mood", systems.REFERRAL_REASON)],
    )
    resource, gaps = _validate(body)

    assert [(r.code, r.group) for r in resource.reasons] == [("low-mood", "mental-wellbeing")]
    assert resource.source_of_referral.group == "primary-care"
    assert gaps == []


@pytest.mark.parametrize(
    ("body", "expression"),
    [
        (
            service_request(reasons=[reason("366979005")]),
            "ServiceRequest.reasonCode[0].coding[0].code",
        ),
        (
            service_request(reasons=[reason("105531004"), reason("0366979004")]),
            "ServiceRequest.reasonCode[1].coding[0].code",
        ),
        (
            service_request(source=(systems.SNOMED, "366979014")),
            "ServiceRequest.extension[0].valueCodeableConcept.coding[0].code",
        ),
        (
            service_request(reasons=[reason("unknown-local", systems.REFERRAL_REASON)]),
            "ServiceRequest.reasonCode[0]",
        ),
        (
            service_request(reasons=[reason("366979004"), reason("366979004")]),
            "ServiceRequest.reasonCode[1]",
        ),
    ],
    ids=[
        "wrong check digit",
        "leading zero",
        "description id as source",
        "unknown local reason",
        "same SNOMED reason twice",
    ],
)
def test_refusals_name_the_element(body, expression):
    with pytest.raises(ValidationError) as raised:
        ServiceRequest.model_validate(body)
    [error] = raised.value.errors()
    assert error["ctx"]["expression"] == expression
