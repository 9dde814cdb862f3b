"""OperationOutcome: how every FHIR endpoint reports an error."""

from typing import Literal

from pydantic import Field

from signpost_schemas.fhir.base import FhirModel, FhirResource
from signpost_schemas.fhir.datatypes import CodeableConcept

IssueSeverity = Literal["fatal", "error", "warning", "information"]
# The subset of http://hl7.org/fhir/issue-type that Signpost emits.
IssueType = Literal[
    "invalid",
    "structure",
    "required",
    "value",
    "invariant",
    "security",
    "login",
    "forbidden",
    "processing",
    "not-supported",
    "duplicate",
    "multiple-matches",
    "not-found",
    "too-long",
    "too-costly",
    "code-invalid",
    "business-rule",
    "conflict",
    "throttled",
    "exception",
    "timeout",
    "incomplete",
    "informational",
]


class OperationOutcomeIssue(FhirModel):
    severity: IssueSeverity
    code: IssueType
    details: CodeableConcept | None = None
    diagnostics: str | None = None
    expression: list[str] | None = None


class OperationOutcome(FhirResource):
    resourceType: Literal["OperationOutcome"] = "OperationOutcome"
    id: str | None = None
    issue: list[OperationOutcomeIssue] = Field(min_length=1)
