"""A referral's person: an NHS number, or the sender's own patient identifier with a data gap."""

import pytest
from pydantic import ValidationError

from signpost_schemas import systems
from signpost_schemas.fhir.gaps import Gap, GapKind
from signpost_schemas.fhir.patient import MessagePatient
from signpost_schemas.fhir.service_request import ServiceRequest
from tests.support.builders import service_request

RIO_PATIENT = "https://rio.example/patient-id"


def with_subject(identifier: dict | None) -> dict:
    body = service_request()
    body["subject"] = {"identifier": identifier} if identifier is not None else {}
    return body


def test_a_local_patient_identifier_names_the_person_and_notes_a_gap():
    gaps: list[Gap] = []
    resource = ServiceRequest.model_validate(
        with_subject({"system": RIO_PATIENT, "value": "RIO-000123"}), context={"gaps": gaps}
    )

    assert resource.nhs_number is None
    assert resource.local_patient_identifier == (RIO_PATIENT, "RIO-000123")
    assert [(g.kind, g.element) for g in gaps] == [
        (GapKind.NO_NHS_NUMBER, "ServiceRequest.subject.identifier")
    ]


def test_an_nhs_number_notes_no_gap():
    gaps: list[Gap] = []
    resource = ServiceRequest.model_validate(service_request(), context={"gaps": gaps})

    assert resource.nhs_number == "9434765919"
    assert resource.local_patient_identifier is None
    assert gaps == []


@pytest.mark.parametrize(
    "identifier",
    [None, {"system": RIO_PATIENT}, {"value": "RIO-000123"}],
    ids=["no identifier", "no value", "no system"],
)
def test_a_subject_that_names_nobody_is_refused(identifier):
    with pytest.raises(ValidationError) as raised:
        ServiceRequest.model_validate(with_subject(identifier))

    [error] = raised.value.errors()
    assert error["type"] == "required"
    assert error["ctx"]["expression"] == "ServiceRequest.subject.identifier"


def test_an_nhs_number_that_fails_modulus_11_is_still_refused():
    with pytest.raises(ValidationError) as raised:
        ServiceRequest.model_validate(
            with_subject({"system": systems.NHS_NUMBER, "value": "9434765918"})
        )

    [error] = raised.value.errors()
    assert error["ctx"]["expression"] == "ServiceRequest.subject.identifier.value"


def patient(*identifiers: dict) -> dict:
    return {"resourceType": "Patient", "identifier": list(identifiers)}


def test_a_patient_may_carry_only_a_local_identifier():
    parsed = MessagePatient.model_validate(patient({"system": RIO_PATIENT, "value": "RIO-000123"}))

    assert parsed.nhs_number is None
    assert parsed.local_identifiers == [(RIO_PATIENT, "RIO-000123")]


def test_a_patient_with_both_gives_the_nhs_number_and_the_local_identifier():
    parsed = MessagePatient.model_validate(
        patient(
            {"system": RIO_PATIENT, "value": "RIO-000123"},
            {"system": "https://fhir.nhs.uk/id/nhs-number", "value": "943 476 5919"},
        )
    )

    assert parsed.nhs_number == "9434765919"
    assert parsed.local_identifiers == [(RIO_PATIENT, "RIO-000123")]


@pytest.mark.parametrize(
    ("identifiers", "expression"),
    [
        ([{"value": "RIO-000123"}], "Patient.identifier"),
        (
            [
                {"system": RIO_PATIENT, "value": "RIO-000123"},
                {"system": systems.NHS_NUMBER, "value": "9434765918"},
            ],
            "Patient.identifier[1].value",
        ),
    ],
    ids=["nothing usable", "bad NHS number beside a local one"],
)
def test_a_patient_without_a_usable_identifier_or_with_a_bad_nhs_number_is_refused(
    identifiers, expression
):
    with pytest.raises(ValidationError) as raised:
        MessagePatient.model_validate(patient(*identifiers))

    [error] = raised.value.errors()
    assert error["ctx"]["expression"] == expression
