"""The Patient Signpost reads from a referral message, keeping only the minimum dataset.

Senders (EMIS, Rio) send full UK Core Patients. Signpost keeps the NHS number (or, for someone
without one, the sender's own patient identifiers: any system other than the NHS number's), the
year of birth,
gender, ethnic category, the postcode (only to derive LSOA and district, never stored), the GP
practice and the PCN. Names, address lines, telecoms and contacts are accepted so integrations
need not strip them, and are excluded from the model's output so they are never stored.
"""

import re
from datetime import date
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from signpost_schemas import systems
from signpost_schemas.fhir import profiles
from signpost_schemas.fhir.base import FhirModel, FhirResource
from signpost_schemas.fhir.binding import custom_error
from signpost_schemas.fhir.datatypes import (
    CodeableConcept,
    Coding,
    Extension,
    FhirId,
    FhirString,
    Identifier,
    Meta,
    Reference,
)
from signpost_schemas.nhs_number import InvalidNhsNumber, validate_nhs_number

_FHIR_DATE = re.compile(r"^(?P<year>[0-9]{4})(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?)?$")

AdministrativeGender = Literal["male", "female", "other", "unknown"]

# Elements that identify a person beyond the dataset: accepted, never kept.
_DROPPED: Any = Field(default=None, exclude=True)


class PatientAddress(FhirModel):
    """An address: only `postalCode` is read; the rest is accepted and dropped."""

    use: str | None = _DROPPED
    type: str | None = _DROPPED
    text: str | None = _DROPPED
    line: list[str] | None = _DROPPED
    city: str | None = _DROPPED
    district: str | None = _DROPPED
    state: str | None = _DROPPED
    country: str | None = _DROPPED
    period: dict[str, Any] | None = _DROPPED
    extension: list[dict[str, Any]] | None = _DROPPED
    postalCode: FhirString | None = None


class MessagePatient(FhirResource):
    """The person referred, as a referral message carries them."""

    resourceType: Literal["Patient"]
    id: FhirId | None = None
    meta: Meta | None = None
    extension: list[Extension] | None = None
    identifier: list[Identifier] = Field(min_length=1)
    active: bool | None = None
    gender: AdministrativeGender | None = None
    birthDate: str | None = None
    address: list[PatientAddress] | None = None
    generalPractitioner: list[Reference] | None = None
    managingOrganization: Reference | None = None
    name: list[dict[str, Any]] | None = _DROPPED
    telecom: list[dict[str, Any]] | None = _DROPPED
    contact: list[dict[str, Any]] | None = _DROPPED
    communication: list[dict[str, Any]] | None = _DROPPED
    maritalStatus: dict[str, Any] | None = _DROPPED
    deceasedBoolean: bool | None = _DROPPED
    deceasedDateTime: str | None = _DROPPED
    multipleBirthBoolean: bool | None = _DROPPED
    multipleBirthInteger: int | None = _DROPPED
    text: dict[str, Any] | None = _DROPPED
    photo: list[dict[str, Any]] | None = _DROPPED

    @field_validator("birthDate")
    @classmethod
    def _fhir_date(cls, value: str | None) -> str | None:
        if value is None:
            return None
        match = _FHIR_DATE.match(value)
        if not match:
            raise ValueError("birthDate must be a FHIR date: YYYY, YYYY-MM or YYYY-MM-DD")
        if len(value) == 10:
            date.fromisoformat(value)  # rejects 2026-02-31
        return value

    @model_validator(mode="after")
    def _identifies_person(self) -> "MessagePatient":
        """An NHS number (Modulus 11 checked) or, without one, a local patient identifier."""
        usable = False
        for index, identifier in enumerate(self.identifier):
            if not identifier.system or not identifier.value:
                continue
            usable = True
            if systems.normalise_system(identifier.system) != systems.NHS_NUMBER:
                continue
            try:
                validate_nhs_number(identifier.value)
            except InvalidNhsNumber as error:
                raise custom_error(
                    "value_error",
                    "invalid NHS number: {problem}",
                    f"Patient.identifier[{index}].value",
                    problem=str(error),
                ) from None
        if not usable:
            raise custom_error(
                "required",
                "the Patient must carry an NHS number or the sender's patient identifier, with "
                "both system and value",
                "Patient.identifier",
            )
        return self

    # Typed views of the minimum dataset.

    @property
    def nhs_number(self) -> str | None:
        """The NHS number, or None for a person the sender identifies only locally."""
        for identifier in self.identifier:
            system = systems.normalise_system(identifier.system or "")
            if system == systems.NHS_NUMBER and identifier.value:
                return validate_nhs_number(identifier.value)
        return None

    @property
    def local_identifiers(self) -> list[tuple[str, str]]:
        """The sender's own patient identifiers (system, value): every other system."""
        return [
            (identifier.system, identifier.value)
            for identifier in self.identifier
            if identifier.system
            and identifier.value
            and systems.normalise_system(identifier.system) != systems.NHS_NUMBER
        ]

    @property
    def birth_year(self) -> int | None:
        return int(self.birthDate[:4]) if self.birthDate else None

    @property
    def postcode(self) -> str | None:
        """The first postcode given (home address first if marked), or None."""
        for address in self.address or []:
            if address.postalCode:
                return address.postalCode
        return None

    @property
    def practice_ods(self) -> str | None:
        """The registered GP practice's ODS code, from `generalPractitioner`."""
        for reference in self.generalPractitioner or []:
            identifier = reference.identifier
            if (
                identifier
                and identifier.system
                and identifier.value
                and (systems.normalise_system(identifier.system) == systems.ODS_ORGANIZATION)
            ):
                return identifier.value.strip().upper()
        return None

    def extension_concept(self, url: str) -> CodeableConcept | None:
        """The CodeableConcept (or Coding) value of the extension `url`, if present."""
        for extension in self.extension or []:
            if extension.url == url:
                if extension.valueCodeableConcept is not None:
                    return extension.valueCodeableConcept
                if extension.valueCoding is not None:
                    return CodeableConcept(coding=[extension.valueCoding])
        return None

    @property
    def ethnicity(self) -> CodeableConcept | None:
        return self.extension_concept(profiles.ETHNIC_CATEGORY_EXTENSION)

    @property
    def gender_identity(self) -> CodeableConcept | None:
        return self.extension_concept(profiles.GENDER_IDENTITY_EXTENSION)

    @property
    def pcn_ods(self) -> str | None:
        for extension in self.extension or []:
            if extension.url == profiles.PRIMARY_CARE_NETWORK_EXTENSION:
                identifier = extension.valueIdentifier or (
                    extension.valueReference.identifier if extension.valueReference else None
                )
                if identifier and identifier.value:
                    return identifier.value.strip().upper()
        return None


def first_coding(concept: CodeableConcept | None) -> Coding | None:
    """The first coding with both a system and a code."""
    for coding in (concept.coding or []) if concept else []:
        if coding.system and coding.code:
            return coding
    return None
