"""The BaRS-shaped message Bundle Signpost accepts at `$process-message`, and its response.

A message is a Bundle of type `message` whose first entry is a MessageHeader. The header names
the event (BaRS `servicerequest-request` or `servicerequest-response`), the reason (`new` or
`update`) and its focus, the ServiceRequest the message is about. The other entries are parsed
by their own profiles; here each is kept as a JSON object so a bad entry can be reported with its
position (`Bundle.entry[3].resource...`).
"""

from typing import Any, Literal

from pydantic import AwareDatetime, Field

from signpost_schemas.fhir.base import FhirModel, FhirResource
from signpost_schemas.fhir.datatypes import (
    CodeableConcept,
    Coding,
    Extension,
    FhirId,
    FhirString,
    FhirUri,
    Identifier,
    Meta,
    Reference,
)
from signpost_schemas.fhir.operation_outcome import OperationOutcome

MessageEvent = Literal["servicerequest-request", "servicerequest-response"]
MessageReason = Literal["new", "update"]
MESSAGE_EVENTS: tuple[str, ...] = ("servicerequest-request", "servicerequest-response")
MESSAGE_REASONS: tuple[str, ...] = ("new", "update")


class MessageSource(FhirModel):
    """The sending system: `software` names it (EMIS Web, Rio, ...)."""

    endpoint: FhirUri
    name: FhirString | None = None
    software: FhirString | None = None
    version: FhirString | None = None
    contact: dict[str, Any] | None = None


class MessageDestination(FhirModel):
    endpoint: FhirUri
    name: FhirString | None = None
    target: Reference | None = None
    receiver: Reference | None = None
    extension: list[Extension] | None = None


class MessageResponse(FhirModel):
    identifier: FhirId
    code: Literal["ok", "transient-error", "fatal-error"]
    details: Reference | None = None


class MessageHeader(FhirResource):
    """The header of a referral message (event, reason, focus)."""

    resourceType: Literal["MessageHeader"]
    id: FhirId | None = None
    meta: Meta | None = None
    extension: list[Extension] | None = None
    eventCoding: Coding
    destination: list[MessageDestination] | None = None
    sender: Reference | None = None
    enterer: Reference | None = None
    author: Reference | None = None
    source: MessageSource
    responsible: Reference | None = None
    reason: CodeableConcept
    response: MessageResponse | None = None
    focus: list[Reference] = Field(min_length=1)
    definition: FhirUri | None = None


class MessageEntry(FhirModel):
    fullUrl: FhirUri | None = None
    resource: dict[str, Any]


class MessageBundle(FhirResource):
    """A message Bundle: `id` and `timestamp` are required (idempotency and ordering)."""

    resourceType: Literal["Bundle"]
    id: FhirId
    meta: Meta | None = None
    identifier: Identifier | None = None
    type: Literal["message"]
    timestamp: AwareDatetime
    entry: list[MessageEntry] = Field(min_length=1)


class ResponseMessageHeader(FhirResource):
    """The header of the response message: the event `servicerequest-response`, the message
    it answers (`response.identifier`, its Bundle.id), `ok` or not, and the OperationOutcome
    entry saying what was done (`response.details`)."""

    resourceType: Literal["MessageHeader"]
    id: FhirId
    eventCoding: Coding
    source: MessageSource
    response: MessageResponse
    focus: list[Reference] | None = None


class ResponseMessageEntry(FhirModel):
    fullUrl: FhirUri
    resource: ResponseMessageHeader | OperationOutcome


class ResponseMessage(FhirResource):
    """What `$process-message` answers: a message Bundle whose first entry is the
    MessageHeader and whose second is the OperationOutcome it names."""

    resourceType: Literal["Bundle"]
    id: FhirId
    meta: Meta | None = None
    type: Literal["message"]
    timestamp: AwareDatetime
    entry: list[ResponseMessageEntry] = Field(min_length=2)
