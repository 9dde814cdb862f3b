"""The UK Core shaped resources directory-api's FHIR view serves: Organization, Location and
HealthcareService, as `directory_api.documents.fhir` renders them from the ORUK records (the
OpenAPI documents and typed clients read them from here)."""

from datetime import date
from typing import Literal

from pydantic import Field

from signpost_schemas.fhir.base import FhirModel, FhirResource
from signpost_schemas.fhir.datatypes import (
    CodeableConcept,
    FhirId,
    FhirString,
    FhirUri,
    Identifier,
    Meta,
    Reference,
)

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
FhirTime = str


class ContactPoint(FhirModel):
    system: Literal["phone", "fax", "email", "pager", "url", "sms", "other"]
    value: FhirString
    use: Literal["home", "work", "temp", "old", "mobile"] | None = None


class Address(FhirModel):
    use: Literal["home", "work", "temp", "old", "billing"] | None = None
    type: Literal["postal", "physical", "both"] | None = None
    line: list[FhirString] | None = None
    city: FhirString | None = None
    district: FhirString | None = None
    postalCode: FhirString | None = None
    country: FhirString | None = None


class Position(FhirModel):
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)


class DirectoryExtension(FhirModel):
    """The date a service was last assured, or whether it accepts self-referral."""

    url: FhirUri
    valueDate: date | None = None
    valueBoolean: bool | None = None


class IdentifiedResource(FhirResource):
    """The elements an Organization and a Location open with: the id and meta directory-api
    gives every record, and at least one identifier."""

    resourceType: str
    id: FhirId
    meta: Meta
    identifier: list[Identifier] = Field(min_length=1)


class Organization(IdentifiedResource):
    """An ORUK organization as a UK Core Organization."""

    resourceType: Literal["Organization"]
    active: bool
    name: FhirString
    alias: list[FhirString] | None = None
    telecom: list[ContactPoint] | None = None
    partOf: Reference | None = None


class Location(IdentifiedResource):
    """An ORUK location as a UK Core Location."""

    resourceType: Literal["Location"]
    status: Literal["active", "suspended", "inactive"]
    name: FhirString | None = None
    alias: list[FhirString] | None = None
    description: FhirString | None = None
    mode: Literal["instance", "kind"]
    telecom: list[ContactPoint] | None = None
    address: Address | None = None
    physicalType: CodeableConcept | None = None
    position: Position | None = None
    managingOrganization: Reference | None = None


class AvailableTime(FhirModel):
    daysOfWeek: list[Weekday] | None = None
    allDay: bool | None = None
    availableStartTime: FhirTime | None = None
    availableEndTime: FhirTime | None = None


class NotAvailable(FhirModel):
    description: FhirString


class Eligibility(FhirModel):
    code: CodeableConcept | None = None
    comment: FhirString | None = None


class HealthcareService(FhirResource):
    """An ORUK service as a UK Core HealthcareService: its taxonomy terms as `type`, its
    locations, opening times, languages, cost (`serviceProvisionCode` free or cost) and
    eligibility (with the age range)."""

    resourceType: Literal["HealthcareService"]
    id: FhirId
    meta: Meta
    extension: list[DirectoryExtension] | None = None
    identifier: list[Identifier] = Field(min_length=1)
    active: bool
    providedBy: Reference | None = None
    type: list[CodeableConcept] | None = None
    location: list[Reference] | None = None
    name: FhirString
    comment: FhirString | None = None
    extraDetails: FhirString | None = None
    telecom: list[ContactPoint] | None = None
    coverageArea: list[Reference] | None = None
    serviceProvisionCode: list[CodeableConcept] | None = None
    eligibility: list[Eligibility] | None = None
    communication: list[CodeableConcept] | None = None
    referralMethod: list[CodeableConcept] | None = None
    availableTime: list[AvailableTime] | None = None
    notAvailable: list[NotAvailable] | None = None
