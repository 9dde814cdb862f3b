"""Canonical URIs for the identifier systems, code systems and extensions Signpost uses."""

from typing import Final

NHS_NUMBER: Final = "https://fhir.nhs.uk/Id/nhs-number"
ODS_ORGANIZATION: Final = "https://fhir.nhs.uk/Id/ods-organization-code"
ODS_SITE: Final = "https://fhir.nhs.uk/Id/ods-site-code"
SNOMED: Final = "http://snomed.info/sct"
LOINC: Final = "http://loinc.org"

LOCAL_BASE: Final = "https://signpost.nhs.example"
REFERRAL_REASON: Final = f"{LOCAL_BASE}/CodeSystem/referral-reason"
PERSONALISED_CARE_ROLE: Final = f"{LOCAL_BASE}/CodeSystem/personalised-care-role"
SOURCE_OF_REFERRAL: Final = f"{LOCAL_BASE}/CodeSystem/source-of-referral"
SUPPORT_OFFERED: Final = f"{LOCAL_BASE}/CodeSystem/support-offered"

# Identifier systems Signpost itself issues.
REFERRAL_IDENTIFIER: Final = f"{LOCAL_BASE}/Id/referral"
# A person's pseudonym in a pseudonymised bulk export (the keyed HMAC of their person key).
PERSON_PSEUDONYM: Final = f"{LOCAL_BASE}/Id/person-pseudonym"
# A referral raised by a positive screen, identified by the screening response it came from.
SCREENING_RESPONSE: Final = f"{LOCAL_BASE}/Id/screening-response"

# Profiles and extensions.
SERVICE_REQUEST_PROFILE: Final = f"{LOCAL_BASE}/StructureDefinition/SignpostServiceRequest"
SOURCE_OF_SERVICE_REQUEST_EXTENSION: Final = (
    "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-SourceOfServiceRequest"
)

# Senders (BaRS examples among them) sometimes spell the NHS systems with a lower-case "id".
_CASE_VARIANTS: Final = {
    "https://fhir.nhs.uk/id/nhs-number": NHS_NUMBER,
    "https://fhir.nhs.uk/id/ods-organization-code": ODS_ORGANIZATION,
    "https://fhir.nhs.uk/id/ods-site-code": ODS_SITE,
}


def normalise_system(system: str) -> str:
    """Return the canonical spelling of an identifier system URI."""
    return _CASE_VARIANTS.get(system, system)


def ods_code(system: str | None, value: str | None) -> str | None:
    """The ODS organisation code an identifier carries, upper-cased as records store it; None
    when its system (in any spelling `normalise_system` knows) is another or it has no value."""
    if system is None or not value or normalise_system(system) != ODS_ORGANIZATION:
        return None
    return value.strip().upper()
