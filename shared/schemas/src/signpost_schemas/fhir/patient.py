"""The Patient Signpost reads from a referral message, keeping only the minimum dataset.

Senders (EMIS, Rio) send full UK Core Patients. Signpost keeps the NHS number (or, for someone
without one, the sender's own patient identifiers: any system other than the NHS number's), the
year of birth,
gender, ethnic category, the postcode (only to derive LSOA and district, never stored), the GP
practice and the PCN. Read leniently (`signpost_schemas.fhir.lenient`), everything else a Patient
carries (names, address lines, telecoms, contacts, extensions Signpost does not read) is personal
data outside the dataset: removed before validation, never stored, and reported as a
REMOVED_PERSONAL_DATA gap. A dataset item that is missing is a NOT_RECORDED gap.
"""

import re
from datetime import date
from typing import ClassVar, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from signpost_schemas import systems
from signpost_schemas.fhir import profiles
from signpost_schemas.fhir.base import FhirModel, FhirResource
from signpost_schemas.fhir.binding import custom_error
from signpost_schemas.fhir.datatypes import (
    CodeableConcept,
    Extension,
    FhirId,
    FhirString,
    Identifier,
    Meta,
    Reference,
)
from signpost_schemas.fhir.gaps import Gap, GapKind, note_gap
from signpost_schemas.geography import postcode_shape
from signpost_schemas.nhs_number import InvalidNhsNumber, validate_nhs_number

_ODS_CODE = re.compile(r"\s*[A-Za-z0-9]{3,10}\s*")
_FHIR_DATE = re.compile(r"^(?P<year>[0-9]{4})(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?)?$")

AdministrativeGender = Literal["male", "female", "other", "unknown"]


class PatientAddress(FhirModel):
    """An address: only `postalCode` is read (the rest is personal data, removed)."""

    postalCode: FhirString | None = None


class MessagePatient(FhirResource):
    """The person referred, as a referral message carries them."""

    read_extensions: ClassVar[frozenset[str]] = frozenset(
        {
            profiles.ETHNIC_CATEGORY_EXTENSION,
            profiles.GENDER_IDENTITY_EXTENSION,
            profiles.PRIMARY_CARE_NETWORK_EXTENSION,
        }
    )
    keeps_unknown_elements: ClassVar[bool] = False

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
    def _organisations_are_ods_codes(self) -> "MessagePatient":
        """The GP practice and managing organisation, where named by ODS code, are ODS codes
        (3 to 10 letters or digits): they are stored and reported as such."""
        named: list[tuple[str, Identifier | None, bool]] = [
            (f"generalPractitioner[{index}].identifier", reference.identifier, False)
            for index, reference in enumerate(self.generalPractitioner or [])
        ]
        if self.managingOrganization is not None:
            named.append(
                ("managingOrganization.identifier", self.managingOrganization.identifier, False)
            )
        for index, extension in enumerate(self.extension or []):
            if extension.url == profiles.PRIMARY_CARE_NETWORK_EXTENSION:
                reference = extension.valueReference
                named.append(
                    (f"extension[{index}].valueIdentifier", extension.valueIdentifier, True)
                )
                if reference is not None:
                    named.append(
                        (
                            f"extension[{index}].valueReference.identifier",
                            reference.identifier,
                            True,
                        )
                    )
        for element, identifier, always_ods in named:
            if (
                identifier is not None
                and identifier.value is not None
                and (
                    always_ods
                    or (
                        identifier.system is not None
                        and systems.normalise_system(identifier.system) == systems.ODS_ORGANIZATION
                    )
                )
                and not _ODS_CODE.fullmatch(identifier.value)
            ):
                raise PydanticCustomError(
                    "string_pattern_mismatch",
                    "an ODS organisation code is 3 to 10 letters or digits",
                    {"element": f"{element}.value"},
                )
        return self

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

    @model_validator(mode="after")
    def _dataset_gaps(self, info: ValidationInfo) -> "MessagePatient":
        missing = [
            ("Patient.gender", "gender", self.gender is None and self.gender_identity is None),
            ("Patient.birthDate", "date of birth", self.birthDate is None),
            ("Patient.address.postalCode", "postcode", self.postcode is None),
            (
                f"Patient.extension('{profiles.ETHNIC_CATEGORY_EXTENSION}')",
                "ethnic category",
                self.ethnicity is None,
            ),
            ("Patient.generalPractitioner", "GP practice", self.practice_ods is None),
        ]
        for element, what, absent in missing:
            if absent:
                note_gap(
                    info,
                    Gap(GapKind.NOT_RECORDED, element, f"the {what} was not recorded"),
                )
        for index, address in enumerate(self.address or []):
            if address.postalCode:  # the postcode read (`postcode`): the first given
                if (problem := _POSTCODE_GAPS.get(postcode_shape(address.postalCode))) is not None:
                    where = f"Patient.address[{index}].postalCode"
                    note_gap(info, Gap(GapKind.NOT_RECORDED, where, problem))
                break
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
            code = systems.ods_code(identifier.system, identifier.value) if identifier else None
            if code is not None:
                return code
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


# Why a postcode that was sent gives no area (`postcode_shape`). The value is not repeated: the
# full postcode is personal data, and gaps are kept.
_AREA = "so the person's area (LSOA) and its deprivation decile cannot be derived"
_POSTCODE_GAPS = {
    "district-only": f"only the postcode district was recorded, not the full postcode, {_AREA}",
    "invalid-postcode": f"the postcode is not a full UK postcode, {_AREA}",
}
