"""The Signpost profile of QuestionnaireResponse for screening.

A renderer's export is accepted as it is; the front end adds only the person:
- `subject.identifier`: the person's NHS number (Modulus 11 checked); names are never kept.
  A form launched with the person (SDC launch context `patient`) carries the NHS number in its
  `nhs-number` item instead; it then names the subject, and must agree with `subject` when both
  are given.

Where the screen was given (the clinic, whose ODS code becomes the referral's requester) is
found, in order, in the screening-context extension, in `author` (an Organization by ODS code),
or in the caller's token (its organisation claim); see `clinic_of`. Optionally:
- the screening-context extension: the clinic and the pathway (for example
  `cardiology-outpatient`, used in the process metrics);
- one contained Patient, the subject (`subject.reference` `#id`), carrying the demographics the
  referral passes on: gender, birth date, postcode and the UK Core ethnic category. It is held
  to the referral message's Patient profile, so names, telecoms and address lines are dropped.
"""

import re
from dataclasses import dataclass
from typing import Any

from pydantic import model_validator

from signpost_schemas import systems
from signpost_schemas.fhir import lenient
from signpost_schemas.fhir.binding import custom_error
from signpost_schemas.fhir.datatypes import Extension
from signpost_schemas.fhir.patient import MessagePatient
from signpost_schemas.fhir.service_request import ODS_CODE_PATTERN, PatientReference
from signpost_schemas.nhs_number import InvalidNhsNumber, validate_nhs_number
from signpost_schemas.questionnaire import QuestionnaireResponse

# The item that carries the person's NHS number, pre-filled from the launch patient.
NHS_NUMBER_LINK_ID = "nhs-number"

SCREENING_CONTEXT_EXTENSION = f"{systems.LOCAL_BASE}/StructureDefinition/screening-context"
SCREENING_RESPONSE_PROFILE = f"{systems.LOCAL_BASE}/StructureDefinition/ScreeningResponse"
PATHWAY_PATTERN = r"^[a-z0-9][a-z0-9\-]{0,63}$"
AUTHOR = "QuestionnaireResponse.author"


class ScreeningResponse(QuestionnaireResponse):
    """A screening response: a QuestionnaireResponse about a person identified by NHS number."""

    contained: list[MessagePatient] | None = None
    subject: PatientReference  # type: ignore[assignment]

    @model_validator(mode="before")
    @classmethod
    def _subject_from_the_nhs_number_item(cls, data: Any) -> Any:
        """The NHS number item (pre-filled from the launch patient) names the subject when
        `subject` does not name one; when both do, they must agree."""
        found = _nhs_number_answer(data.get("item")) if isinstance(data, dict) else None
        if found is None:
            return data
        where, value = found
        try:
            number = validate_nhs_number(value)
        except InvalidNhsNumber as error:
            raise custom_error(
                "value_error", "invalid NHS number: {problem}", where, problem=str(error)
            ) from None
        subject = data.get("subject") or {}
        if not isinstance(subject, dict):
            return data
        identifier = subject.get("identifier")
        if identifier is None:
            nhs_number = {"system": systems.NHS_NUMBER, "value": number}
            return {**data, "subject": {**subject, "identifier": nhs_number}}
        given = identifier.get("value") if isinstance(identifier, dict) else None
        try:
            differs = isinstance(given, str) and validate_nhs_number(given) != number
        except InvalidNhsNumber:
            return data  # the subject's own check names it
        if differs:
            raise custom_error(
                "business_rule", "the NHS number item differs from the subject's NHS number", where
            )
        return data

    @model_validator(mode="before")
    @classmethod
    def _patient_identified_by_subject(cls, data: Any) -> Any:
        """A contained Patient may leave out the NHS number: it is the subject's."""
        if not isinstance(data, dict) or not isinstance(data.get("contained"), list):
            return data
        subject = data.get("subject")
        identifier = subject.get("identifier") if isinstance(subject, dict) else None
        if not isinstance(identifier, dict):
            return data
        contained = [
            _dataset_of({**entry, "identifier": entry.get("identifier") or [identifier]})
            if isinstance(entry, dict) and entry.get("resourceType") == "Patient"
            else entry
            for entry in data["contained"]
        ]
        return {**data, "contained": contained}

    @model_validator(mode="after")
    def _contained_patient_is_the_subject(self) -> "ScreeningResponse":
        patients = self.contained or []
        if len(patients) > 1:
            raise custom_error(
                "business_rule",
                "at most one Patient is contained: the subject",
                "QuestionnaireResponse.contained[1]",
            )
        if not patients:
            return self
        patient = patients[0]
        reference = self.subject.reference
        if reference is not None and reference != f"#{patient.id}":
            raise custom_error(
                "business_rule",
                "the contained Patient is the subject: subject.reference must be '#{id}'",
                "QuestionnaireResponse.subject.reference",
                id=patient.id or "",
            )
        if patient.nhs_number != self.subject.identifier.value:
            raise custom_error(
                "business_rule",
                "the contained Patient's NHS number differs from the subject's",
                "QuestionnaireResponse.contained[0].identifier",
            )
        return self

    @property
    def patient(self) -> MessagePatient | None:
        """The person's demographics, when the front end gave them."""
        return self.contained[0] if self.contained else None


def _nhs_number_answer(items: Any) -> tuple[str, str] | None:
    """The FHIRPath and value of the NHS number item's answer, if it has a text answer."""
    for index, item in enumerate(items if isinstance(items, list) else []):
        if not isinstance(item, dict) or item.get("linkId") != NHS_NUMBER_LINK_ID:
            continue
        answers = item.get("answer")
        first = answers[0] if isinstance(answers, list) and answers else None
        value = first.get("valueString") if isinstance(first, dict) else None
        if isinstance(value, str):
            return f"QuestionnaireResponse.item[{index}].answer[0].valueString", value
    return None


def _dataset_of(patient: dict[str, Any]) -> dict[str, Any]:
    """The contained Patient less what the referral dataset does not keep (names, telecom,
    address lines...), as referral-api reads a message's Patient; what is left is validated
    with the response."""
    known, _ = lenient.known_part(patient, MessagePatient)
    return known


@dataclass(frozen=True, slots=True)
class ScreeningContext:
    """What the screening-context extension says (both parts are optional)."""

    clinic_ods: str | None
    pathway: str | None


@dataclass(frozen=True, slots=True)
class ContextProblem:
    expression: str
    diagnostics: str
    code: str = "required"


@dataclass(frozen=True, slots=True)
class Clinic:
    """The clinic a response is filed under, and the element that named it (None: the token)."""

    ods_code: str
    expression: str | None


NO_CONTEXT = ScreeningContext(None, None)


def screening_context(response: QuestionnaireResponse) -> ScreeningContext | ContextProblem:
    """The clinic and pathway the screening-context extension carries, or what is wrong."""
    where = f"QuestionnaireResponse.extension('{SCREENING_CONTEXT_EXTENSION}')"
    found = [
        (index, e)
        for index, e in enumerate(response.extension or [])
        if e.url == SCREENING_CONTEXT_EXTENSION
    ]
    if not found:
        return NO_CONTEXT
    if len(found) > 1:
        return ContextProblem(
            where,
            f"the screening-context extension is given once (found {len(found)})",
            "structure",
        )
    index, extension = found[0]
    base = f"QuestionnaireResponse.extension[{index}]"
    parts: dict[str, Extension] = {part.url: part for part in extension.extension or []}
    urls = [part.url for part in extension.extension or []]
    if repeated := sorted({url for url in urls if urls.count(url) > 1}):
        return ContextProblem(
            f"{base}.extension", f"each part is given once: {repeated} appear more than once"
        )
    unknown = set(parts) - {"clinic", "pathway"}
    if unknown:
        return ContextProblem(
            f"{base}.extension", f"unknown parts {sorted(unknown)}: use clinic, pathway"
        )
    clinic = parts.get("clinic")
    clinic_ods = None
    if clinic is not None:
        identifier = clinic.valueIdentifier
        clinic_ods = _ods_code(identifier.system, identifier.value) if identifier else None
        if clinic_ods is None:
            return ContextProblem(
                f"{base}.extension('clinic').valueIdentifier",
                f"the clinic is a valueIdentifier with system {systems.ODS_ORGANIZATION} and "
                "an ODS code",
            )
    pathway = parts.get("pathway")
    if pathway is not None and (
        pathway.valueCode is None or not re.match(PATHWAY_PATTERN, pathway.valueCode)
    ):
        return ContextProblem(
            f"{base}.extension('pathway').valueCode",
            "the pathway is a valueCode of lower-case letters, digits and hyphens",
        )
    return ScreeningContext(clinic_ods, pathway.valueCode if pathway else None)


def author_clinic(response: QuestionnaireResponse) -> str | ContextProblem | None:
    """The ODS code of the Organization `author` names by identifier, if it names one."""
    author = response.author
    identifier = author.identifier if author else None
    if identifier is None or identifier.system is None:
        return None
    if systems.normalise_system(identifier.system) != systems.ODS_ORGANIZATION:
        return None
    code = _ods_code(identifier.system, identifier.value)
    if code is None:
        return ContextProblem(
            f"{AUTHOR}.identifier.value", "an ODS code is 3 to 10 letters and digits", "value"
        )
    return code


def clinic_of(
    context: ScreeningContext, author: str | None, caller_organisation: str | None
) -> Clinic | ContextProblem:
    """Where the screen was given: the screening-context clinic, else the Organization `author`
    names, else the caller's own organisation (the token's ODS claim).

    Whether the caller may file for that clinic is the access rule's to say (`Reach`).
    """
    if context.clinic_ods and author and context.clinic_ods != author:
        return ContextProblem(
            AUTHOR,
            f"the author ({author}) and the screening-context clinic ({context.clinic_ods}) "
            "name different clinics",
            "business-rule",
        )
    if context.clinic_ods:
        return Clinic(
            context.clinic_ods, f"QuestionnaireResponse.extension('{SCREENING_CONTEXT_EXTENSION}')"
        )
    if author:
        return Clinic(author, AUTHOR)
    if caller_organisation:
        return Clinic(caller_organisation, None)
    return ContextProblem(
        AUTHOR,
        "no clinic: name it in author (an Organization by identifier "
        f"{systems.ODS_ORGANIZATION}), or send the response with a token that names the "
        "clinic's organisation",
    )


def _ods_code(system: str | None, value: str | None) -> str | None:
    code = systems.ods_code(system, value)
    return code if code is not None and re.match(ODS_CODE_PATTERN, code) else None
