"""The Signpost profile of an invitation: an SDC/Gravity "TaskForPatient" complete-questionnaire.

`for` is the person (NHS number), `requester` the clinic (ODS code), `input` the questionnaire
(`valueCanonical` url|version), and the screening-context extension may name the pathway.
"""

from typing import Literal

from pydantic import AwareDatetime, Field

from signpost_schemas.fhir.base import FhirModel, FhirResource
from signpost_schemas.fhir.datatypes import (
    CodeableConcept,
    Extension,
    FhirId,
    FhirUri,
    Identifier,
    Meta,
)
from signpost_schemas.fhir.service_request import OrganisationReference, PatientReference

SDC_TEMP = "http://hl7.org/fhir/uv/sdc/CodeSystem/temp"


class TaskInput(FhirModel):
    type: CodeableConcept
    valueCanonical: FhirUri


class InvitationTask(FhirResource):
    """A request to a person to complete a screening questionnaire."""

    resourceType: Literal["Task"]
    id: FhirId | None = None
    meta: Meta | None = None
    extension: list[Extension] | None = None
    identifier: list[Identifier] | None = None
    status: Literal["requested", "ready", "in-progress", "completed", "cancelled"]
    intent: Literal["order"]
    code: CodeableConcept
    for_: PatientReference = Field(alias="for")
    authoredOn: AwareDatetime
    requester: OrganisationReference
    input: list[TaskInput] = Field(min_length=1)

    def to_fhir(self) -> dict[str, object]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)
