"""OperationOutcome: how every FHIR endpoint reports an error."""

from typing import Literal

from pydantic import Field

from signpost_schemas.fhir.base import FhirModel, FhirResource
from signpost_schemas.fhir.datatypes import CodeableConcept

IssueSeverity = Literal["fatal", "error", "warning", "information"]
# http://hl7.org/fhir/issue-type (R4), every code: a client reading an OperationOutcome from any
# FHIR server, or from a Signpost version that uses a code more, must be able to parse it.
IssueType = Literal[
    "invalid",
    "structure",
    "required",
    "value",
    "invariant",
    "security",
    "login",
    "unknown",
    "expired",
    "forbidden",
    "suppressed",
    "processing",
    "not-supported",
    "duplicate",
    "multiple-matches",
    "not-found",
    "deleted",
    "too-long",
    "code-invalid",
    "extension",
    "too-costly",
    "business-rule",
    "conflict",
    "transient",
    "lock-error",
    "no-store",
    "exception",
    "timeout",
    "incomplete",
    "throttled",
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
