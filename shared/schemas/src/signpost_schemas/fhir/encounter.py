"""The Signpost contact: one Encounter between the person and the role, or an attempt at one.

Required beyond base FHIR: `basedOn` (the referral), `period.start` (the contact date), and two
extensions coded from the NHS Data Dictionary lists: the consultation mechanism (CONSULTATION
MECHANISM or the older CONSULTATION MEDIUM USED) and the attendance outcome (ATTENDED OR DID NOT
ATTEND: attended, did not attend, cancelled by the patient or by the provider, ...).
`class` is optional on input; Signpost serves it derived from the mechanism (AMB or VR).
"""

from datetime import date, datetime
from typing import ClassVar, Literal

from pydantic import AwareDatetime, Field, model_validator

from signpost_schemas import codes
from signpost_schemas.codes import CodeList, Concept
from signpost_schemas.fhir import profiles
from signpost_schemas.fhir.base import FhirModel, FhirResource
from signpost_schemas.fhir.binding import custom_error, describe_codings, first_match
from signpost_schemas.fhir.datatypes import (
    CodeableConcept,
    Coding,
    Extension,
    FhirId,
    Identifier,
    Meta,
    Reference,
)
from signpost_schemas.fhir.task import as_moment

EncounterStatus = Literal[
    "planned",
    "arrived",
    "triaged",
    "in-progress",
    "onleave",
    "finished",
    "cancelled",
    "entered-in-error",
    "unknown",
]


class ContactPeriod(FhirModel):
    start: AwareDatetime | date
    end: AwareDatetime | date | None = None


class Contact(FhirResource):
    """A contact (Encounter) of a referral."""

    read_extensions: ClassVar[frozenset[str]] = frozenset(
        {profiles.CONSULTATION_MECHANISM_EXTENSION, profiles.ATTENDANCE_EXTENSION}
    )
    personal_elements: ClassVar[frozenset[str]] = frozenset({"text", "subject.display"})

    resourceType: Literal["Encounter"]
    id: FhirId
    meta: Meta | None = None
    extension: list[Extension] = Field(default_factory=list)
    identifier: list[Identifier] | None = None
    status: EncounterStatus
    class_: Coding | None = Field(default=None, alias="class")
    type: list[CodeableConcept] | None = None
    serviceType: CodeableConcept | None = None
    subject: Reference | None = None
    basedOn: list[Reference] = Field(min_length=1)
    period: ContactPeriod
    serviceProvider: Reference | None = None

    @model_validator(mode="after")
    def _coded_extensions(self) -> "Contact":
        self._coded(
            profiles.CONSULTATION_MECHANISM_EXTENSION,
            codes.consultation_mechanisms(),
            "consultation mechanism",
        )
        self._coded(profiles.ATTENDANCE_EXTENSION, codes.attendance(), "attendance outcome")
        return self

    def _coded(self, url: str, code_list: CodeList, what: str) -> Concept:
        found = [(i, e) for i, e in enumerate(self.extension) if e.url == url]
        if len(found) != 1:
            raise custom_error(
                "required",
                "exactly one {what} extension ({url}) is required (found {count})",
                f"Encounter.extension('{url}')",
                what=what,
                url=url,
                count=len(found),
            )
        index, extension = found[0]
        concept = extension.valueCodeableConcept or (
            CodeableConcept(coding=[extension.valueCoding]) if extension.valueCoding else None
        )
        match = first_match(concept, code_list) if concept else None
        if match is None:
            raise custom_error(
                "code_invalid",
                "the {what} must be coded from the {value_set} list (got {got})",
                f"Encounter.extension[{index}].value[x]",
                what=what,
                value_set=code_list.name,
                got=describe_codings(concept) if concept else "no value",
            )
        return match[1]

    @property
    def mechanism(self) -> Concept:
        return self._coded(
            profiles.CONSULTATION_MECHANISM_EXTENSION,
            codes.consultation_mechanisms(),
            "consultation mechanism",
        )

    @property
    def attendance(self) -> Concept:
        return self._coded(profiles.ATTENDANCE_EXTENSION, codes.attendance(), "attendance outcome")

    @property
    def contact_at(self) -> datetime:
        return as_moment(self.period.start)

    @property
    def served_class(self) -> Coding:
        """AMB for face-to-face contacts, VR (virtual) for the rest."""
        face_to_face = self.mechanism.group == "face-to-face"
        return Coding(
            system=profiles.ENCOUNTER_CLASS,
            code="AMB" if face_to_face else "VR",
            display="ambulatory" if face_to_face else "virtual",
        )
