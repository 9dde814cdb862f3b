"""The Signpost ServiceRequest profile: one referral to a personalised-care role.

Shaped on UK Core ServiceRequest and the BaRS referral request. Beyond base FHIR it requires:
- `subject.identifier`: the person's NHS number (Modulus 11 checked) or, for someone without
  one, the sender's own patient identifier (a Rio or EMIS local number: any other system), which
  is kept with a `no-nhs-number` data gap;
- `requester.identifier`: the referring organisation's ODS code;
- `performerType`: the personalised-care role that receives the referral (one of six);
- the UK Core source-of-referral extension, coded from the source-of-referral value set or
  with any well-formed SNOMED CT concept id (absent: the local `not-recorded` source, and a
  NOT_RECORDED gap);
- `authoredOn`: the referral date;
- `reasonCode` 1..*: every need, in rank order: coded from the referral-reason value set, or
  with any well-formed SNOMED CT concept id, or given as text only (absent or empty: the local
  `reason-not-recorded` reason, and a NOT_RECORDED gap). What the shipped lists do not group is
  kept and reported as a data gap (`signpost_schemas.fhir.gaps`).
- `performer`, when it names an organisation by ODS code: at most one such organisation, the
  receiving organisation. With the requester it decides who may see the referral.
"""

import re
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AwareDatetime, Field, ValidationInfo, field_validator, model_validator

from signpost_schemas import codes, systems
from signpost_schemas.codes import Concept
from signpost_schemas.fhir import profiles
from signpost_schemas.fhir.base import FhirModel, FhirResource
from signpost_schemas.fhir.binding import (
    CodedValue,
    bound_to,
    check_snomed_codings,
    custom_error,
    describe_codings,
    first_match,
    gap_of,
    read_coded,
)
from signpost_schemas.fhir.datatypes import (
    Annotation,
    CodeableConcept,
    Coding,
    Extension,
    FhirCode,
    FhirId,
    FhirString,
    FhirSystem,
    FhirUri,
    Identifier,
    Meta,
    Narrative,
    Reference,
    RequestStatus,
)
from signpost_schemas.fhir.gaps import Gap, GapKind, note_gap
from signpost_schemas.nhs_number import InvalidNhsNumber, validate_nhs_number

REASON_NOT_RECORDED = (systems.REFERRAL_REASON, "reason-not-recorded")
SOURCE_NOT_RECORDED = (systems.SOURCE_OF_REFERRAL, "not-recorded")
ODS_CODE_PATTERN = r"^[A-Z0-9]{3,10}$"
# A referral dated more than this far ahead of the server clock is a data-entry error.
AUTHORED_CLOCK_SKEW = timedelta(days=1)

# Checked by ServiceRequest._check_reasons, which knows each reason's position.
ReasonConcept = CodeableConcept
RoleConcept = Annotated[CodeableConcept, bound_to(codes.personalised_care_roles, "performerType")]

ServiceRequestIntent = Literal[
    "proposal",
    "plan",
    "directive",
    "order",
    "original-order",
    "reflex-order",
    "filler-order",
    "instance-order",
    "option",
]


class BusinessIdentifier(Identifier):
    """An identifier the sender assigned: both `system` and `value` are required."""

    system: FhirSystem
    value: FhirString


class _NormalisedSystem(FhirModel):
    """An identifier whose `system` is read in its canonical spelling, whatever case the sender
    gave the NHS systems (`systems.normalise_system`)."""

    @field_validator("system", mode="before", check_fields=False)
    @classmethod
    def _normalise_system(cls, value: object) -> object:
        return systems.normalise_system(value) if isinstance(value, str) else value


class NhsNumberIdentifier(_NormalisedSystem):
    system: Literal["https://fhir.nhs.uk/Id/nhs-number"]
    value: str
    extension: list[Extension] | None = None

    @field_validator("value")
    @classmethod
    def _valid_nhs_number(cls, value: str) -> str:
        try:
            return validate_nhs_number(value)
        except InvalidNhsNumber as error:
            raise ValueError(f"invalid NHS number: {error}") from None


class PatientReference(FhirModel):
    """The person referred, by NHS number.

    Signpost does not keep names: a `display` is accepted from senders and left out of the model's
    output, so it is never stored or served.
    """

    reference: FhirString | None = None
    type: Literal["Patient"] | None = None
    identifier: NhsNumberIdentifier
    display: FhirString | None = Field(default=None, exclude=True)


class PatientIdentifier(_NormalisedSystem):
    """The identifier of the person referred: an NHS number, or the sender's own patient number.

    Only the NHS number system is checked (Modulus 11); any other system is the sender's local
    patient identifier (Rio, EMIS), taken as given.
    """

    use: FhirCode | None = None
    type: CodeableConcept | None = None
    system: FhirSystem | None = None
    value: FhirString | None = None
    extension: list[Extension] | None = None

    @model_validator(mode="after")
    def _valid_nhs_number(self) -> "PatientIdentifier":
        if self.system == systems.NHS_NUMBER and self.value is not None:
            try:
                self.value = validate_nhs_number(self.value)
            except InvalidNhsNumber as error:
                raise custom_error(
                    "value_error",
                    "invalid NHS number: {problem}",
                    "ServiceRequest.subject.identifier.value",
                    problem=str(error),
                ) from None
        return self


class ReferralSubject(FhirModel):
    """The person referred, by NHS number or, without one, by the sender's patient identifier.

    A subject that names nobody (no identifier, or one without both system and value) is refused:
    a referral must say whose it is. Without an NHS number the referral is kept, with a
    `no-nhs-number` gap. As in `PatientReference`, a `display` is accepted and never kept.
    """

    reference: FhirString | None = None
    type: Literal["Patient"] | None = None
    identifier: PatientIdentifier | None = None
    display: FhirString | None = Field(default=None, exclude=True)

    @model_validator(mode="after")
    def _identifies_person(self, info: ValidationInfo) -> "ReferralSubject":
        identifier = self.identifier
        if identifier is None or not identifier.system or not identifier.value:
            raise custom_error(
                "required",
                "subject.identifier must name the person: an NHS number "
                "(https://fhir.nhs.uk/Id/nhs-number) or the sender's patient identifier, each "
                "with both system and value",
                "ServiceRequest.subject.identifier",
            )
        if identifier.system != systems.NHS_NUMBER:
            note_gap(
                info,
                Gap(
                    GapKind.NO_NHS_NUMBER,
                    "ServiceRequest.subject.identifier",
                    "no NHS number: the person is identified by the sender's patient identifier",
                ),
            )
        return self

    @property
    def key(self) -> tuple[str, str]:
        """(system, value) of the person's identifier."""
        assert self.identifier and self.identifier.system and self.identifier.value
        return self.identifier.system, self.identifier.value


class OdsIdentifier(_NormalisedSystem):
    system: Literal["https://fhir.nhs.uk/Id/ods-organization-code"]
    value: Annotated[str, Field(pattern=ODS_CODE_PATTERN)]

    @field_validator("value", mode="before")
    @classmethod
    def _upper_case(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value


class OrganisationReference(FhirModel):
    """The referring organisation, by ODS code."""

    reference: FhirString | None = None
    type: Literal["Organization"] | None = None
    identifier: OdsIdentifier
    display: FhirString | None = None


def _ods_code_of(reference: Reference) -> str | None:
    """The ODS organisation code a reference names by identifier, upper-cased; else None."""
    identifier = reference.identifier
    return None if identifier is None else systems.ods_code(identifier.system, identifier.value)


class ServiceRequest(FhirResource):
    """A referral in the Signpost minimum referral dataset."""

    # The lifecycle and linked-referral extensions are Signpost's own, served and sent back.
    read_extensions: ClassVar[frozenset[str]] = frozenset(
        {
            systems.SOURCE_OF_SERVICE_REQUEST_EXTENSION,
            profiles.REFERRAL_LIFECYCLE_EXTENSION,
            profiles.LINKED_REFERRAL_EXTENSION,
        }
    )
    personal_elements: ClassVar[frozenset[str]] = frozenset(
        {"text", "note", "patientInstruction", "contained", "subject.display"}
    )

    resourceType: Literal["ServiceRequest"]
    id: FhirId | None = None
    meta: Meta | None = None
    text: Narrative | None = None
    extension: list[Extension] = Field(default_factory=list)
    # The sender's business identifier: what makes a retry idempotent and the referral findable.
    identifier: list[BusinessIdentifier] = Field(min_length=1)
    status: RequestStatus
    intent: ServiceRequestIntent
    category: list[CodeableConcept] | None = None
    priority: Literal["routine", "urgent", "asap", "stat"] | None = None
    code: CodeableConcept | None = None
    subject: ReferralSubject
    authoredOn: AwareDatetime | date
    requester: OrganisationReference
    performerType: RoleConcept
    performer: list[Reference] | None = None
    reasonCode: list[ReasonConcept] = Field(min_length=1)
    note: list[Annotation] | None = None

    @field_validator("authoredOn")
    @classmethod
    def _not_in_future(cls, value: datetime | date) -> datetime | date:
        now = datetime.now(UTC)
        moment = (
            value
            if isinstance(value, datetime)
            else datetime(value.year, value.month, value.day, tzinfo=UTC)
        )
        if moment > now + AUTHORED_CLOCK_SKEW:
            raise ValueError("the referral date is in the future")
        return value

    @model_validator(mode="before")
    @classmethod
    def _not_recorded_filled_in(cls, data: Any) -> Any:
        """A missing source of referral or reason is kept as explicitly not recorded."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        extensions = data.get("extension")
        if extensions is None or isinstance(extensions, list):
            extensions = list(extensions or [])
            if not any(
                isinstance(e, dict) and e.get("url") == systems.SOURCE_OF_SERVICE_REQUEST_EXTENSION
                for e in extensions
            ):
                extensions.append(_source_extension(SOURCE_NOT_RECORDED))
            data["extension"] = extensions
        if data.get("reasonCode") in (None, []):
            system, code = REASON_NOT_RECORDED
            data["reasonCode"] = [{"coding": [{"system": system, "code": code}]}]
        return data

    @model_validator(mode="after")
    def _dataset_rules(self, info: ValidationInfo) -> "ServiceRequest":
        self._check_source_of_referral(info)
        self._check_reasons(info)
        self._check_identifiers()
        self._check_performers()
        return self

    def _check_source_of_referral(self, info: ValidationInfo) -> None:
        found = [
            (i, e)
            for i, e in enumerate(self.extension)
            if e.url == systems.SOURCE_OF_SERVICE_REQUEST_EXTENSION
        ]
        where = f"ServiceRequest.extension('{systems.SOURCE_OF_SERVICE_REQUEST_EXTENSION}')"
        if len(found) != 1:
            raise custom_error(
                "required",
                "exactly one source-of-referral extension is required (found {count})",
                where,
                count=len(found),
            )
        index, extension = found[0]
        concept = extension.valueCodeableConcept
        coded_at = f"ServiceRequest.extension[{index}].valueCodeableConcept"
        if concept is not None:
            check_snomed_codings(concept, coded_at)
        value = read_coded(concept, codes.sources_of_referral()) if concept else None
        if value is None:
            raise custom_error(
                "code_invalid",
                "the source of referral must be a valueCodeableConcept coded from the "
                "source-of-referral value set or with a SNOMED CT concept id",
                coded_at,
            )
        if (value.system, value.code) == SOURCE_NOT_RECORDED:
            note_gap(
                info,
                Gap(
                    GapKind.NOT_RECORDED,
                    where,
                    "no source of referral was recorded: kept as 'not recorded'",
                ),
            )
        elif (gap := gap_of(value, coded_at, "the source of referral")) is not None:
            note_gap(info, gap)

    def _check_reasons(self, info: ValidationInfo) -> None:
        seen: set[tuple[str, str]] = set()
        for index, reason in enumerate(self.reasonCode):
            where = f"ServiceRequest.reasonCode[{index}]"
            check_snomed_codings(reason, where)
            value = read_coded(reason, codes.referral_reasons(), text_only=True)
            if value is None:
                raise custom_error(
                    "code_invalid",
                    "each reasonCode must carry a coding from the referral-reasons value set, "
                    "a SNOMED CT concept id, or only text (got {got})",
                    where,
                    got=describe_codings(reason),
                )
            if (gap := gap_of(value, where, "the reason")) is not None:
                note_gap(info, gap)
            if value.system is None or value.code is None:
                continue  # text only: two texts are two reasons
            key = (value.system, value.code)
            if key in seen:
                raise custom_error(
                    "duplicate",
                    "the reason {code} is given twice",
                    where,
                    code=value.code,
                )
            seen.add(key)
        if REASON_NOT_RECORDED in seen and len(seen) > 1:
            raise custom_error(
                "business_rule",
                "'reason-not-recorded' says no reason was given, so it cannot stand beside "
                "other reasons",
                "ServiceRequest.reasonCode",
            )
        if REASON_NOT_RECORDED in seen:
            note_gap(
                info,
                Gap(
                    GapKind.NOT_RECORDED,
                    "ServiceRequest.reasonCode",
                    "no reason for referral was recorded: kept as 'reason-not-recorded'",
                ),
            )

    def _check_identifiers(self) -> None:
        seen: set[tuple[str, str]] = set()
        for index, identifier in enumerate(self.identifier):
            key = (identifier.system, identifier.value)
            if key in seen:
                raise custom_error(
                    "duplicate",
                    "the identifier is given twice",
                    f"ServiceRequest.identifier[{index}]",
                )
            seen.add(key)

    def _check_performers(self) -> None:
        receiver: str | None = None
        for index, performer in enumerate(self.performer or []):
            code = _ods_code_of(performer)
            if code is None:
                continue
            if not re.fullmatch(ODS_CODE_PATTERN, code):
                raise custom_error(
                    "value_error",
                    "an ODS code is 3 to 10 letters and digits (got {code!r})",
                    f"ServiceRequest.performer[{index}].identifier.value",
                    code=code,
                )
            if receiver is not None and code != receiver:
                raise custom_error(
                    "business_rule",
                    "a referral has one receiving organisation: performer names both {first} "
                    "and {second}",
                    f"ServiceRequest.performer[{index}]",
                    first=receiver,
                    second=code,
                )
            receiver = code

    # Typed views of the dataset, for the services that store it.

    @property
    def receiver_ods(self) -> str | None:
        """The receiving organisation's ODS code, when `performer` names one."""
        for performer in self.performer or []:
            if (code := _ods_code_of(performer)) is not None:
                return code
        return None

    @property
    def nhs_number(self) -> str | None:
        """The person's NHS number, or None when the sender identified them otherwise."""
        system, value = self.subject.key
        return value if system == systems.NHS_NUMBER else None

    @property
    def local_patient_identifier(self) -> tuple[str, str] | None:
        """The sender's own patient identifier (system, value), when that names the person."""
        system, value = self.subject.key
        return None if system == systems.NHS_NUMBER else (system, value)

    @property
    def requester_ods(self) -> str:
        return self.requester.identifier.value

    @property
    def received_by_role(self) -> Concept:
        match = first_match(self.performerType, codes.personalised_care_roles())
        assert match is not None
        return match[1]

    @property
    def source_of_referral(self) -> CodedValue:
        """The source of referral as kept: its code and group (`unmapped` for a SNOMED CT
        code outside the shipped list)."""
        for extension in self.extension:
            if extension.url == systems.SOURCE_OF_SERVICE_REQUEST_EXTENSION:
                assert extension.valueCodeableConcept is not None
                value = read_coded(extension.valueCodeableConcept, codes.sources_of_referral())
                assert value is not None
                return value
        raise AssertionError("validated ServiceRequest without a source of referral")

    @property
    def reasons(self) -> list[CodedValue]:
        """Each reason as kept (code, group, free text), in rank order (rank 1 first); a
        text-only reason has no system or code and the group `uncoded`."""
        result = []
        for reason in self.reasonCode:
            value = read_coded(reason, codes.referral_reasons(), text_only=True)
            assert value is not None
            result.append(value)
        return result

    @property
    def authored_at(self) -> datetime:
        value = self.authoredOn
        if isinstance(value, datetime):
            return value
        return datetime(value.year, value.month, value.day, tzinfo=UTC)


def _source_extension(key: tuple[str, str]) -> dict[str, Any]:
    system, code = key
    return {
        "url": systems.SOURCE_OF_SERVICE_REQUEST_EXTENSION,
        "valueCodeableConcept": {"coding": [{"system": system, "code": code}]},
    }


def coding_for(concept: Concept) -> Coding:
    """A Coding for a catalogue concept."""
    return Coding(system=concept.system, code=concept.code, display=concept.display)


__all__ = [
    "REASON_NOT_RECORDED",
    "SOURCE_NOT_RECORDED",
    "BusinessIdentifier",
    "FhirUri",
    "OrganisationReference",
    "PatientIdentifier",
    "PatientReference",
    "ReferralSubject",
    "ServiceRequest",
    "coding_for",
]
