"""The lenient reader: what the profile reads is validated, the rest kept or removed, as gaps."""

import pytest
from pydantic import ValidationError

from signpost_schemas import systems
from signpost_schemas.fhir import lenient, profiles
from signpost_schemas.fhir.gaps import GapKind
from signpost_schemas.fhir.patient import MessagePatient
from signpost_schemas.fhir.service_request import ServiceRequest
from tests.support.builders import service_request
from tests.support.messages import emis_patient


def test_unread_extensions_go_back_in_their_places_among_the_read_ones():
    body = service_request()
    first = {"url": "https://example.org/a", "valueString": "a"}
    last = {"url": "https://example.org/b", "extension": [{"url": "x", "valueInteger": 1}]}
    body["extension"] = [first, *body["extension"], last]

    reading = lenient.read(body, ServiceRequest)

    assert reading.resource.to_fhir()["extension"] == body["extension"]
    assert [g.kind for g in reading.gaps] == [GapKind.NOT_INTERPRETED] * 2


def test_the_parts_of_a_read_extension_are_read_with_it():
    body = service_request()
    body["extension"].append(
        {
            "url": profiles.REFERRAL_LIFECYCLE_EXTENSION,
            "extension": [{"url": "status", "valueCode": "accepted"}],
        }
    )

    assert lenient.read(body, ServiceRequest).gaps == []


def test_a_complete_resource_reads_exactly_as_the_strict_model_does():
    body = service_request()

    reading = lenient.read(body, ServiceRequest)

    assert reading.gaps == []
    assert reading.resource.to_fhir() == ServiceRequest.model_validate(body).to_fhir()


def test_the_patient_keeps_nothing_it_does_not_read():
    patient = emis_patient()
    patient["extension"].append({"url": "https://example.org/religion", "valueString": "x"})
    patient["maritalStatus"] = {"text": "married"}

    reading = lenient.read(patient, MessagePatient)

    kept = reading.resource.to_fhir()
    assert {"name", "telecom", "maritalStatus"}.isdisjoint(kept)
    assert kept["address"] == [{"postalCode": "E15 1DA"}]
    assert [e["url"] for e in kept["extension"]] == [profiles.ETHNIC_CATEGORY_EXTENSION]
    removed = {g.element for g in reading.gaps if g.kind is GapKind.REMOVED_PERSONAL_DATA}
    assert removed == {
        "Patient.name",
        "Patient.telecom",
        "Patient.maritalStatus",
        "Patient.extension('https://example.org/religion')",
        "Patient.address[0].line",
        "Patient.address[0].city",
    }


def test_a_patient_without_demographics_has_a_gap_per_item():
    patient = {
        "resourceType": "Patient",
        "identifier": [{"system": systems.NHS_NUMBER, "value": "9434765919"}],
    }

    reading = lenient.read(patient, MessagePatient)

    assert {(g.kind, g.element) for g in reading.gaps} == {
        (GapKind.NOT_RECORDED, "Patient.gender"),
        (GapKind.NOT_RECORDED, "Patient.birthDate"),
        (GapKind.NOT_RECORDED, "Patient.address.postalCode"),
        (GapKind.NOT_RECORDED, f"Patient.extension('{profiles.ETHNIC_CATEGORY_EXTENSION}')"),
        (GapKind.NOT_RECORDED, "Patient.generalPractitioner"),
    }


@pytest.mark.parametrize(
    ("postcode", "gap"),
    [
        ("E15 1DA", None),
        ("e151da", None),
        ("E15 9ZZ", None),  # a full postcode, whether or not the lookup has it
        ("E15", "only the postcode district was recorded"),
        ("SW1A", "only the postcode district was recorded"),
        ("not a postcode", "the postcode is not a full UK postcode"),
    ],
)
def test_a_postcode_that_gives_no_area_is_a_gap_that_does_not_repeat_it(postcode, gap):
    patient = {
        "resourceType": "Patient",
        "identifier": [{"system": systems.NHS_NUMBER, "value": "9434765919"}],
        "address": [{"use": "work"}, {"postalCode": postcode}, {"postalCode": "E15"}],
    }

    reading = lenient.read(patient, MessagePatient)

    # Only the postcode read (the first given) is judged.
    postcode_gaps = [g for g in reading.gaps if "postalCode" in g.element]
    if gap is None:
        assert postcode_gaps == []
    else:
        [found] = postcode_gaps
        assert (found.kind, found.element) == (
            GapKind.NOT_RECORDED,
            "Patient.address[1].postalCode",
        )
        assert gap in found.message
        assert postcode not in found.message


@pytest.mark.parametrize(
    "place",
    [
        ("modifierExtension",),
        ("requester", "modifierExtension"),
        ("contained", 0, "modifierExtension"),
        # In a part the profile reads, in a list.
        ("reasonCode", 0, "coding", 0, "modifierExtension"),
        # In an element outside the profile, kept as sent.
        ("supportingInfo", 0, "modifierExtension"),
        # In an extension the profile does not read, kept as sent.
        ("extension", 0, "extension", 0, "modifierExtension"),
    ],
)
def test_a_modifier_extension_anywhere_is_refused(place):
    body = service_request(contained=[{"resourceType": "Organization"}])
    body["supportingInfo"] = [{"reference": "DocumentReference/1"}]
    body["extension"].insert(
        0, {"url": "https://example.org/unread", "extension": [{"url": "part"}]}
    )
    node = body
    for step in place[:-1]:
        node = node[step]
    node[place[-1]] = [{"url": "https://example.org/m", "valueBoolean": True}]

    with pytest.raises(ValidationError) as raised:
        lenient.read(body, ServiceRequest)

    [error] = raised.value.errors()
    assert error["type"] == "not_supported"
    assert error["loc"] == place


def test_a_modifier_extension_in_personal_data_removed_is_refused_too():
    patient = emis_patient()
    patient["name"] = [
        {"family": "Example", "modifierExtension": [{"url": "https://example.org/m"}]}
    ]

    with pytest.raises(ValidationError) as raised:
        lenient.read(patient, MessagePatient)

    [error] = raised.value.errors()
    assert (error["type"], error["loc"]) == ("not_supported", ("name", 0, "modifierExtension"))


def test_the_first_modifier_extension_in_the_body_is_named():
    body = service_request()
    body["supportingInfo"] = [{"modifierExtension": [{"url": "https://example.org/a"}]}]
    body["modifierExtension"] = [{"url": "https://example.org/b"}]

    with pytest.raises(ValidationError) as raised:
        lenient.read(body, ServiceRequest)

    [error] = raised.value.errors()
    assert error["loc"] == ("supportingInfo", 0, "modifierExtension")
