"""Consent for information sharing (PRSB social prescribing standard), UK Core-shaped.

The person (`patient`, by NHS number) agrees to share their information, or refuses or
withdraws it:

- `scope` is `patient-privacy` (consentscope) and `category` at least one concept (LOINC
  59284-0 "Patient consent" when the sender has no other);
- `provision.type` `permit` (sharing agreed, the default) or `deny` (refused);
- `status` `active` while the decision holds; a consent given and then withdrawn is sent
  again as `inactive` (`provision.period.end` the withdrawal date, if known);
- `dateTime` when the decision was made; `organization` the recording organisation by ODS
  code; `performer` who recorded it;
- `provision.data` may name the referral it was recorded for (`ServiceRequest/<id>`);
- `identifier`, the sender's id of the record: a retry carrying it records nothing twice.

A person's sharing is withdrawn when their latest Consent is inactive or denies it.
"""

from datetime import datetime
from typing import Any, ClassVar, Literal

from pydantic import AwareDatetime, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from signpost_schemas import systems
from signpost_schemas.fhir import profiles
from signpost_schemas.fhir.base import FhirModel, FhirResource
from signpost_schemas.fhir.datatypes import CodeableConcept, Identifier, Meta, Reference
from signpost_schemas.nhs_number import InvalidNhsNumber, validate_nhs_number

CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
PATIENT_PRIVACY = "patient-privacy"


class Period(FhirModel):
    start: AwareDatetime | None = None
    end: AwareDatetime | None = None


class ProvisionData(FhirModel):
    meaning: Literal["instance", "related", "dependents", "authoredby"]
    reference: Reference


class Provision(FhirModel):
    type: Literal["permit", "deny"] | None = None
    period: Period | None = None
    data: list[ProvisionData] | None = None


class InformationSharingConsent(FhirResource):
    resourceType: Literal["Consent"]
    id: str | None = None
    meta: Meta | None = None
    identifier: list[Identifier] | None = None
    status: Literal["draft", "proposed", "active", "rejected", "inactive", "entered-in-error"]
    scope: CodeableConcept
    category: list[CodeableConcept] = Field(min_length=1)
    patient: Reference
    dateTime: AwareDatetime | None = None
    performer: list[Reference] | None = None
    organization: list[Reference] | None = None
    policyRule: CodeableConcept | None = None
    provision: Provision | None = None

    keeps_unknown_elements: ClassVar[bool] = False

    @field_validator("scope")
    @classmethod
    def _information_sharing(cls, scope: CodeableConcept) -> CodeableConcept:
        if not any(
            c.system == CONSENT_SCOPE and c.code == PATIENT_PRIVACY for c in scope.coding or []
        ):
            raise PydanticCustomError(
                "code_invalid",
                f"a consent for information sharing has scope {CONSENT_SCOPE}|{PATIENT_PRIVACY}",
            )
        return scope

    @model_validator(mode="after")
    def _names_the_person_and_organisation(self) -> "InformationSharingConsent":
        identifier = self.patient.identifier
        if identifier is None or identifier.system != systems.NHS_NUMBER or not identifier.value:
            raise PydanticCustomError(
                "missing",
                "the person is named by NHS number (patient.identifier)",
                {"element": "patient"},
            )
        try:
            validate_nhs_number(identifier.value)
        except InvalidNhsNumber as error:
            raise PydanticCustomError(
                "value_error", f"not a valid NHS number: {error}", {"element": "patient"}
            ) from None
        for index, organization in enumerate(self.organization or []):
            named = organization.identifier
            if named is None or named.system != systems.ODS_ORGANIZATION or not named.value:
                raise PydanticCustomError(
                    "value_error",
                    "an organization is named by its ODS code (identifier)",
                    {"element": f"organization[{index}]"},
                )
        return self

    @property
    def business_identifier(self) -> tuple[str, str] | None:
        """The first identifier with a system and value: a retry carrying it finds the Consent
        already recorded instead of recording it twice."""
        for identifier in self.identifier or []:
            if identifier.system and identifier.value:
                return identifier.system, identifier.value
        return None

    @property
    def nhs_number(self) -> str:
        assert self.patient.identifier is not None and self.patient.identifier.value
        return validate_nhs_number(self.patient.identifier.value)

    @property
    def organization_ods(self) -> str | None:
        for organization in self.organization or []:
            if organization.identifier and organization.identifier.value:
                return organization.identifier.value.strip().upper()
        return None

    @property
    def provision_type(self) -> str:
        return (self.provision.type if self.provision else None) or "permit"

    @property
    def withdrawn(self) -> bool:
        """Whether this Consent, as the person's latest, means sharing is withdrawn."""
        return self.status == "inactive" or (
            self.status == "active" and self.provision_type == "deny"
        )

    @property
    def counts(self) -> bool:
        """Whether it is a decision at all (not a draft, a proposal or an error)."""
        return self.status in ("active", "inactive", "rejected")

    @property
    def referral_ids(self) -> list[str]:
        """The referrals `provision.data` names (ServiceRequest/<id>)."""
        found = []
        for data in (self.provision.data if self.provision else None) or []:
            kind, _, identifier = (data.reference.reference or "").rpartition("/")
            if kind == "ServiceRequest" and identifier:
                found.append(identifier)
        return found

    @property
    def period(self) -> tuple[datetime | None, datetime | None]:
        period = self.provision.period if self.provision else None
        return (period.start, period.end) if period else (None, None)

    def served(self) -> dict[str, Any]:
        """The Consent as stored: the provision type and a policy rule always present."""
        document = self.to_fhir()
        document.pop("id", None)
        document.pop("meta", None)
        provision = document.setdefault("provision", {})
        provision.setdefault("type", self.provision_type)
        document.setdefault(
            "policyRule",
            {
                "coding": [
                    {
                        "system": profiles.V3_ACT_CODE,
                        "code": "OPTIN" if self.provision_type == "permit" else "OPTOUT",
                    }
                ]
            },
        )
        return document
