"""The Signpost contact: one Encounter between the person and the role, or an attempt at one.

Required beyond base FHIR: `basedOn` (the referral), `period.start` (the contact date), and two
extensions coded from the NHS Data Dictionary lists: the consultation mechanism (CONSULTATION
MECHANISM or the older CONSULTATION MEDIUM USED) and the attendance outcome (ATTENDED OR DID NOT
ATTEND: attended, did not attend, cancelled by the patient or by the provider, ...).
`class` is optional on input; Signpost serves it derived from the mechanism (AMB or VR).

`participant` names the workers who took part (`fhir.worker`): `individual.identifier` the
sender's staff identifier (system and value), `type` optionally their personalised-care role.
A worker's name (`individual.display`) is removed with a warning; a participant who is not
named by a staff identifier is kept as sent, with a `not-recorded` warning, and counted for no
worker.
"""

from datetime import date, datetime
from typing import ClassVar, Literal

from pydantic import AwareDatetime, Field, ValidationInfo, model_validator

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
from signpost_schemas.fhir.gaps import note_gap
from signpost_schemas.fhir.task import DatePeriod, as_moment
from signpost_schemas.fhir.worker import (
    Worker,
    resource_type,
    unnamed_worker_gap,
    worker_named,
    worker_role,
)

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


class ContactParticipant(FhirModel):
    """One who took part in a contact: a worker by staff identifier, `type` their role."""

    type: list[CodeableConcept] | None = None
    period: DatePeriod | None = None
    individual: Reference | None = None

    def role(self, index: int) -> str | None:
        """The personalised-care role among `type`, if any; a code of the roles' own system
        that is not one of them is refused."""
        for position, concept in enumerate(self.type or []):
            where = f"Encounter.participant[{index}].type[{position}]"
            role = worker_role(concept, "the participant's", where)
            if role is not None:
                return role
        return None


class Contact(FhirResource):
    """A contact (Encounter) of a referral."""

    read_extensions: ClassVar[frozenset[str]] = frozenset(
        {profiles.CONSULTATION_MECHANISM_EXTENSION, profiles.ATTENDANCE_EXTENSION}
    )
    # Workers are kept by staff identifier only: their names are removed.
    personal_elements: ClassVar[frozenset[str]] = frozenset(
        {"text", "subject.display", "participant.individual.display"}
    )

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
    participant: list[ContactParticipant] | None = None
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

    @model_validator(mode="after")
    def _participants(self, info: ValidationInfo) -> "Contact":
        for index, participant in enumerate(self.participant or []):
            participant.role(index)
            individual = participant.individual
            if (
                individual is None
                or worker_named(individual) is not None
                or resource_type(individual) == "RelatedPerson"
            ):
                continue
            where = f"Encounter.participant[{index}].individual.identifier"
            note_gap(
                info,
                unnamed_worker_gap(where, "a worker", "this participant is counted for no worker"),
            )
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
    def workers(self) -> list[Worker]:
        """The workers who took part, each once, by staff identifier, with their role."""
        found: dict[tuple[str, str], Worker] = {}
        for index, participant in enumerate(self.participant or []):
            worker = worker_named(participant.individual, participant.role(index))
            if worker is not None:
                found.setdefault((worker.system, worker.value), worker)
        return list(found.values())

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
