"""Reading a message Bundle: its header, its entries by profile, and which referral it is about.

Everything is validated before anything is written. Each error names the entry it is in:
`Bundle.entry[3].resource.period.start`. The ServiceRequest, Patient, Task, Encounter and
Observation (a wellbeing assessment, or a service-use count when coded from the service-use
list) are read leniently (`signpost_schemas.fhir.lenient`): what Signpost does not read is
kept or removed, and each entry carries its gaps.
"""

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from signpost_platform.errors import BadRequest, Unprocessable
from signpost_platform.fhir.parsing import load_resource, parse_document, read_document
from signpost_schemas import systems
from signpost_schemas.fhir import lenient, profiles
from signpost_schemas.fhir.base import FhirResource
from signpost_schemas.fhir.datatypes import Identifier, Reference
from signpost_schemas.fhir.encounter import Contact
from signpost_schemas.fhir.gaps import Gap
from signpost_schemas.fhir.message import (
    MESSAGE_EVENTS,
    MESSAGE_REASONS,
    MessageBundle,
    MessageHeader,
)
from signpost_schemas.fhir.observation import WellbeingAssessment
from signpost_schemas.fhir.patient import MessagePatient
from signpost_schemas.fhir.procedure import SharedDecision
from signpost_schemas.fhir.service_request import ServiceRequest
from signpost_schemas.fhir.service_use import ServiceUseObservation
from signpost_schemas.fhir.task import ReferralTask

LIFECYCLE_TYPES: dict[str, type[FhirResource]] = {
    "Task": ReferralTask,
    "Encounter": Contact,
    "Observation": WellbeingAssessment,
    "Procedure": SharedDecision,
}
# Resources a BaRS referral may carry that Signpost does not keep.
IGNORED_TYPES = {
    "Organization",
    "Practitioner",
    "PractitionerRole",
    "Location",
    "CarePlan",
    "Flag",
    "HealthcareService",
    "Endpoint",
    "EpisodeOfCare",
    "Consent",
    "Questionnaire",
    "QuestionnaireResponse",
    "MedicationStatement",
    "AllergyIntolerance",
    "Condition",
    "DocumentReference",
    "Appointment",
    "Provenance",
}
# How far ahead of our clock a sender's timestamp may be (Bundle.timestamp, meta.lastUpdated).
CLOCK_SKEW = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Timed:
    """A parsed entry with its position, sender timestamp, content hash and data gaps (named
    from the resource: `Encounter.participant`)."""

    index: int
    resource: Any
    as_of: datetime
    # The hash of what Signpost keeps of the entry, worked out when read: None for the
    # ServiceRequest, whose versions are compared by content (`rendering.same_content`).
    hashed: str | None
    gaps: list[Gap] = field(default_factory=list)

    @property
    def content_hash(self) -> str:
        """The hash of what Signpost keeps of the entry (a Patient's, a lifecycle resource's:
        a version that hashes the same is the same)."""
        return self.hashed if self.hashed is not None else payload_hash(self.resource.to_fhir())

    @property
    def warnings(self) -> list[Gap]:
        """The gaps named from the message: `Bundle.entry[3].resource.participant`."""
        where = f"Bundle.entry[{self.index}].resource"
        return [lenient.relocate(g, self.resource.resourceType, where) for g in self.gaps]


@dataclass
class ReadMessage:
    """A validated message, ready to apply."""

    bundle: MessageBundle
    header: MessageHeader
    event: str
    reason: str
    source_system: str
    service_request: Timed
    patient: Timed | None
    lifecycle: list[Timed] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    # The MessageHeader's free text with characters replaced (named from the message).
    header_gaps: list[Gap] = field(default_factory=list)

    @property
    def identifiers(self) -> list[tuple[str, str]]:
        return [(i.system, i.value) for i in self.service_request.resource.identifier]

    @property
    def warnings(self) -> list[Gap]:
        """Every entry's gaps, in entry order, named from the message."""
        entries = [self.service_request, *([self.patient] if self.patient else []), *self.lifecycle]
        found = [gap for entry in sorted(entries, key=lambda e: e.index) for gap in entry.warnings]
        return [*self.header_gaps, *found]


def payload_hash(document: dict[str, Any]) -> str:
    """The hash of a message's content, independent of key order and whitespace."""
    return hashlib.sha256(orjson.dumps(document, option=orjson.OPT_SORT_KEYS)).hexdigest()


def load_document(body: bytes) -> dict[str, Any]:
    document = load_resource(body, "Bundle")
    if not isinstance(document.get("id"), str) or not document["id"]:
        raise BadRequest(
            "a message Bundle needs an id: it is the key that makes resending safe",
            expression="Bundle.id",
            issue_code="required",
        )
    return document


def read_message(document: dict[str, Any], *, source_override: str | None = None) -> ReadMessage:
    """Validate a whole message; raise with every entry's errors named by position."""
    bundle = parse_document(document, MessageBundle, "Bundle", "Bundle")
    first = bundle.entry[0].resource
    if first.get("resourceType") != "MessageHeader":
        raise Unprocessable(
            "the first entry of a message must be its MessageHeader",
            expression="Bundle.entry[0].resource",
            issue_code="structure",
        )
    first, header_gaps = lenient.free_text_replaced(first, "Bundle.entry[0].resource")
    header = parse_document(first, MessageHeader, "MessageHeader", "Bundle.entry[0].resource")
    event = _check_event(header)
    reason = _check_reason(header)
    timestamp = bundle.timestamp.astimezone(UTC)
    if timestamp > datetime.now(UTC) + CLOCK_SKEW:
        raise Unprocessable(
            "Bundle.timestamp is in the future", expression="Bundle.timestamp", issue_code="value"
        )

    focus_index = _focus_index(bundle, header)
    patient: Timed | None = None
    service_request: Timed | None = None
    lifecycle: list[Timed] = []
    ignored: list[str] = []
    for index, entry in enumerate(bundle.entry[1:], start=1):
        resource_type = entry.resource.get("resourceType")
        where = f"Bundle.entry[{index}].resource"
        if resource_type == "Patient":
            if patient is not None:
                raise Unprocessable("a message carries one Patient", expression=where)
            patient = _timed(
                index, read_document(entry.resource, MessagePatient, "Patient", where), timestamp
            )
        elif resource_type == "ServiceRequest":
            if index != focus_index:
                raise Unprocessable(
                    "a message is about one referral: only the focus ServiceRequest may be sent",
                    expression=where,
                )
            document = _with_subject(entry.resource, bundle)
            reading = read_document(document, ServiceRequest, "ServiceRequest", where)
            parsed = reading.resource
            if parsed.subject.reference and parsed.subject.reference.startswith("urn:"):
                # A pointer into this message's own entries means nothing once stored.
                parsed.subject.reference = None
            service_request = _timed(index, reading, timestamp, with_hash=False)
        elif resource_type in LIFECYCLE_TYPES:
            model = (
                ServiceUseObservation
                if _counts_service_use(entry.resource)
                else LIFECYCLE_TYPES[resource_type]
            )
            lifecycle.append(
                _timed(index, read_document(entry.resource, model, resource_type, where), timestamp)
            )
        elif resource_type in IGNORED_TYPES:
            ignored.append(resource_type)
        else:
            raise Unprocessable(
                f"{resource_type!r} is not a resource a referral message may carry",
                expression=f"{where}.resourceType",
                issue_code="not-supported",
            )
    if service_request is None:
        raise Unprocessable(
            "the focus ServiceRequest is not in the bundle: a message must carry the referral "
            "it is about",
            expression="MessageHeader.focus",
            issue_code="required",
        )
    for item in lifecycle:
        _check_about_focus(item, bundle, service_request)
    return ReadMessage(
        bundle=bundle,
        header=header,
        event=event,
        reason=reason,
        source_system=source_override or classify_source(header),
        service_request=service_request,
        patient=patient,
        lifecycle=lifecycle,
        ignored=ignored,
        header_gaps=header_gaps,
    )


def _counts_service_use(document: dict[str, Any]) -> bool:
    """An Observation coded from the service-use list is a service-use count, not a wellbeing
    assessment."""
    if document.get("resourceType") != "Observation":
        return False
    code = document.get("code")
    codings = code.get("coding") if isinstance(code, dict) else None
    return any(
        isinstance(coding, dict) and coding.get("system") == profiles.SERVICE_USE
        for coding in (codings if isinstance(codings, list) else [])
    )


def classify_source(header: MessageHeader) -> str:
    """emis, rio or api, from the sending software's name (MessageHeader.source)."""
    source = header.source
    text = " ".join(filter(None, (source.software, source.name, source.endpoint))).lower()
    if "emis" in text:
        return "emis"
    if re.search(r"(^|[^a-z])rio([^a-z]|$)", text):
        return "rio"
    return "api"


def _check_event(header: MessageHeader) -> str:
    coding = header.eventCoding
    if coding.system != profiles.BARS_MESSAGE_EVENTS or coding.code not in MESSAGE_EVENTS:
        raise Unprocessable(
            f"unknown message event {coding.system}|{coding.code}: Signpost accepts "
            f"{profiles.BARS_MESSAGE_EVENTS}|{' or |'.join(MESSAGE_EVENTS)}",
            expression="Bundle.entry[0].resource.eventCoding",
            issue_code="code-invalid",
        )
    return str(coding.code)


def _check_reason(header: MessageHeader) -> str:
    for coding in header.reason.coding or []:
        if coding.system == profiles.BARS_MESSAGE_REASON and coding.code in MESSAGE_REASONS:
            return str(coding.code)
    raise Unprocessable(
        f"MessageHeader.reason must be {profiles.BARS_MESSAGE_REASON}|new or |update",
        expression="Bundle.entry[0].resource.reason",
        issue_code="code-invalid",
    )


def _focus_index(bundle: MessageBundle, header: MessageHeader) -> int | None:
    reference = header.focus[0].reference
    for index, entry in enumerate(bundle.entry):
        resource = entry.resource
        if resource.get("resourceType") != "ServiceRequest":
            continue
        names = {entry.fullUrl, f"ServiceRequest/{resource.get('id')}"}
        if reference in names or (len(header.focus) == 1 and reference is None):
            return index
    return None


def _with_subject(document: dict[str, Any], bundle: MessageBundle) -> dict[str, Any]:
    """BaRS senders may point `subject` at the Patient entry: add its identifier, the NHS number
    or, for a person without one, the sender's first own patient identifier."""
    subject = document.get("subject")
    if not isinstance(subject, dict) or "identifier" in subject:
        return document
    for entry in bundle.entry:
        resource = entry.resource
        if resource.get("resourceType") != "Patient":
            continue
        if subject.get("reference") in (entry.fullUrl, f"Patient/{resource.get('id')}"):
            identifier = _person_identifier(resource.get("identifier"))
            if identifier is not None:
                return {**document, "subject": {**subject, "identifier": identifier}}
    return document


def _person_identifier(identifiers: object) -> dict[str, Any] | None:
    usable = [
        i
        for i in (identifiers if isinstance(identifiers, list) else [])
        if isinstance(i, dict) and i.get("system") and i.get("value")
    ]
    for identifier in usable:
        if systems.normalise_system(str(identifier["system"])) == systems.NHS_NUMBER:
            return {"system": systems.NHS_NUMBER, "value": identifier["value"]}
    if usable:
        return {"system": usable[0]["system"], "value": usable[0]["value"]}
    return None


def _check_about_focus(item: Timed, bundle: MessageBundle, service_request: Timed) -> None:
    """Every Task, Encounter and Observation must be about this message's referral."""
    resource = item.resource
    references: list[Reference] = (
        [resource.focus] if isinstance(resource, ReferralTask) else list(resource.basedOn)
    )
    element = "focus" if isinstance(resource, ReferralTask) else "basedOn"
    entry = bundle.entry[service_request.index]
    own = {entry.fullUrl, f"ServiceRequest/{entry.resource.get('id')}"} - {None}
    identifiers = {(i.system, i.value) for i in service_request.resource.identifier}
    for reference in references:
        if reference.reference in own or _identifier_key(reference.identifier) in identifiers:
            return
    raise Unprocessable(
        f"this {resource.resourceType} is about a ServiceRequest that is not the message's "
        "focus: send it in a message about that referral",
        expression=f"Bundle.entry[{item.index}].resource.{element}",
        issue_code="not-found",
    )


def _identifier_key(identifier: Identifier | None) -> tuple[str | None, str | None] | None:
    return (identifier.system, identifier.value) if identifier else None


def _timed(
    index: int, reading: lenient.Reading[Any], timestamp: datetime, *, with_hash: bool = True
) -> Timed:
    parsed = reading.resource
    meta = getattr(parsed, "meta", None)
    as_of = meta.lastUpdated.astimezone(UTC) if meta and meta.lastUpdated else timestamp
    # Every sender timestamp that orders versions is bounded like Bundle.timestamp: a future one
    # would make this version "newer" than every later one, freezing the record.
    if as_of > datetime.now(UTC) + CLOCK_SKEW:
        where = f"Bundle.entry[{index}].resource.meta.lastUpdated"
        raise Unprocessable(
            f"{where} is in the future (more than {CLOCK_SKEW.days} day ahead of the "
            "receiving clock): it orders versions of the record, so it must be when the "
            "sender last changed it",
            expression=where,
            issue_code="value",
        )
    # The hash is of what Signpost keeps, so a held (minimised) copy hashes the same.
    hashed = payload_hash(parsed.to_fhir()) if with_hash else None
    return Timed(index, parsed, as_of, hashed, reading.gaps)
