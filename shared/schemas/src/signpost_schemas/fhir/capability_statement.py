"""CapabilityStatement: what a Signpost FHIR endpoint really supports."""

from typing import Literal

from pydantic import Field

from signpost_schemas.fhir.base import FhirModel, FhirResource
from signpost_schemas.fhir.datatypes import CodeableConcept, Extension, FhirUri

SearchParamType = Literal["number", "date", "string", "token", "reference", "composite", "uri"]
TypeInteraction = Literal[
    "read",
    "vread",
    "update",
    "patch",
    "delete",
    "history-instance",
    "history-type",
    "create",
    "search-type",
]


class SearchParam(FhirModel):
    name: str
    definition: FhirUri | None = None
    type: SearchParamType
    documentation: str | None = None


class ResourceInteraction(FhirModel):
    code: TypeInteraction
    documentation: str | None = None


class Operation(FhirModel):
    name: str
    definition: FhirUri
    documentation: str | None = None


class RestResource(FhirModel):
    type: str
    profile: FhirUri | None = None
    interaction: list[ResourceInteraction]
    versioning: Literal["no-version", "versioned", "versioned-update"] | None = None
    readHistory: bool | None = None
    updateCreate: bool | None = None
    conditionalCreate: bool | None = None
    conditionalUpdate: bool | None = None
    searchParam: list[SearchParam] = Field(default_factory=list)
    operation: list[Operation] | None = None


class RestSecurity(FhirModel):
    extension: list[Extension] | None = None
    cors: bool | None = None
    service: list[CodeableConcept] | None = None
    description: str | None = None


class Rest(FhirModel):
    mode: Literal["server"] = "server"
    documentation: str | None = None
    security: RestSecurity | None = None
    resource: list[RestResource]
    operation: list[Operation] | None = None


class Software(FhirModel):
    name: str
    version: str | None = None


class Implementation(FhirModel):
    description: str
    url: FhirUri | None = None


class CapabilityStatement(FhirResource):
    resourceType: Literal["CapabilityStatement"] = "CapabilityStatement"
    status: Literal["draft", "active", "retired", "unknown"] = "active"
    date: str
    publisher: str = "Signpost"
    kind: Literal["instance", "capability", "requirements"] = "instance"
    software: Software
    implementation: Implementation | None = None
    fhirVersion: str = "4.0.1"
    format: list[str] = Field(default_factory=lambda: ["application/fhir+json", "json"])
    rest: list[Rest]
