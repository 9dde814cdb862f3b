"""URIs of the referral-lifecycle profiles, extensions and the code systems they bind.

Kept apart from `signpost_schemas.systems` so the lifecycle profiles (Task, Encounter,
Observation, Patient, message Bundle) can be read in one place with the URIs they use.
"""

from typing import Final

from signpost_schemas import systems

_SD: Final = f"{systems.LOCAL_BASE}/StructureDefinition"

# Profiles Signpost serves.
TASK_PROFILE: Final = f"{_SD}/SignpostReferralTask"
ENCOUNTER_PROFILE: Final = f"{_SD}/SignpostContact"
OBSERVATION_PROFILE: Final = f"{_SD}/SignpostWellbeingAssessment"
MESSAGE_PROFILE: Final = f"{_SD}/SignpostReferralMessage"
CONSENT_PROFILE: Final = f"{_SD}/SignpostInformationSharingConsent"

# Extensions.
CONSULTATION_MECHANISM_EXTENSION: Final = f"{_SD}/Extension-Signpost-ConsultationMechanism"
ATTENDANCE_EXTENSION: Final = f"{_SD}/Extension-Signpost-AttendanceOutcome"
ASSESSMENT_TIMEPOINT_EXTENSION: Final = f"{_SD}/Extension-Signpost-AssessmentTimepoint"
SUPPORT_KIND_EXTENSION: Final = f"{_SD}/Extension-Signpost-SupportOfferedKind"
SUPPORT_DATE_EXTENSION: Final = f"{_SD}/Extension-Signpost-SupportOfferedDate"
REFERRAL_LIFECYCLE_EXTENSION: Final = f"{_SD}/Extension-Signpost-ReferralLifecycle"
LINKED_REFERRAL_EXTENSION: Final = f"{_SD}/Extension-Signpost-LinkedReferral"
GENDER_IDENTITY_EXTENSION: Final = f"{_SD}/Extension-Signpost-GenderIdentity"
PRIMARY_CARE_NETWORK_EXTENSION: Final = f"{_SD}/Extension-Signpost-PrimaryCareNetwork"
ETHNIC_CATEGORY_EXTENSION: Final = (
    "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-EthnicCategory"
)

# Identifier systems.
DIRECTORY_SERVICE_ID: Final = f"{systems.LOCAL_BASE}/Id/directory-service"
SENDER_RESOURCE_ID: Final = f"{systems.LOCAL_BASE}/Id/sender-resource"

# Code systems.
BARS_MESSAGE_EVENTS: Final = "https://fhir.nhs.uk/CodeSystem/message-events-bars"
BARS_MESSAGE_REASON: Final = "https://fhir.nhs.uk/CodeSystem/message-reason-bars"
TASK_CODE: Final = "http://hl7.org/fhir/CodeSystem/task-code"
ADMINISTRATIVE_GENDER: Final = "http://hl7.org/fhir/administrative-gender"
ENCOUNTER_CLASS: Final = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
OBSERVATION_CATEGORY: Final = "http://terminology.hl7.org/CodeSystem/observation-category"
ASSESSMENT_INSTRUMENT: Final = f"{systems.LOCAL_BASE}/CodeSystem/assessment-instrument"
REFERRAL_CLOSURE_REASON: Final = f"{systems.LOCAL_BASE}/CodeSystem/referral-closure-reason"
REFERRAL_REJECTION_REASON: Final = (
    "https://www.datadictionary.nhs.uk/data_elements/referral_rejection_reason"
)
ETHNIC_CATEGORY_ENGLAND: Final = "https://fhir.hl7.org.uk/CodeSystem/UKCore-EthnicCategoryEngland"
PERSON_STATED_GENDER: Final = (
    "https://fhir.hl7.org.uk/CodeSystem/NHSDataModelAndDictionary-PersonStatedGenderCode"
)
GENDER_IDENTITY: Final = "https://www.datadictionary.nhs.uk/data_elements/gender_identity_code"
ATTENDANCE: Final = "https://www.datadictionary.nhs.uk/data_elements/attended_or_did_not_attend"
