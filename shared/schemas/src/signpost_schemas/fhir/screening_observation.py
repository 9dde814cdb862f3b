"""The Observation served for each answered question of a completed response (as
`extraction.extract_observations` builds it), for the OpenAPI document and typed clients."""

from datetime import datetime
from typing import Literal

from pydantic import Field

from signpost_schemas.fhir.base import FhirResource
from signpost_schemas.fhir.datatypes import CodeableConcept, FhirId, Meta, Reference


class ScreeningObservation(FhirResource):
    """One answer of a completed screen: the question (`code`), the answer
    (`valueCodeableConcept`), `interpretation` POS when it flags its domain, the domain as a
    category, and the response it was extracted from (`derivedFrom`)."""

    resourceType: Literal["Observation"]
    id: FhirId
    meta: Meta
    status: Literal["final", "amended", "corrected", "entered-in-error"]
    category: list[CodeableConcept] = Field(min_length=1)
    code: CodeableConcept
    subject: Reference
    effectiveDateTime: datetime
    issued: datetime
    valueCodeableConcept: CodeableConcept
    interpretation: list[CodeableConcept] | None = None
    derivedFrom: list[Reference] = Field(min_length=1)
