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
SERVICE_USE_PROFILE: Final = f"{_SD}/SignpostServiceUse"
MESSAGE_PROFILE: Final = f"{_SD}/SignpostReferralMessage"
CONSENT_PROFILE: Final = f"{_SD}/SignpostInformationSharingConsent"
PROCEDURE_PROFILE: Final = f"{_SD}/SignpostSharedDecision"
CARE_PLAN_PROFILE: Final = f"{_SD}/SignpostCarePlan"

# Extensions.
CONSULTATION_MECHANISM_EXTENSION: Final = f"{_SD}/Extension-Signpost-ConsultationMechanism"
ATTENDANCE_EXTENSION: Final = f"{_SD}/Extension-Signpost-AttendanceOutcome"
ASSESSMENT_TIMEPOINT_EXTENSION: Final = f"{_SD}/Extension-Signpost-AssessmentTimepoint"
SUPPORT_KIND_EXTENSION: Final = f"{_SD}/Extension-Signpost-SupportOfferedKind"
SUPPORT_DATE_EXTENSION: Final = f"{_SD}/Extension-Signpost-SupportOfferedDate"
PERSONAL_HEALTH_BUDGET_EXTENSION: Final = f"{_SD}/Extension-Signpost-PersonalHealthBudget"
REFERRAL_LIFECYCLE_EXTENSION: Final = f"{_SD}/Extension-Signpost-ReferralLifecycle"
LINKED_REFERRAL_EXTENSION: Final = f"{_SD}/Extension-Signpost-LinkedReferral"
GENDER_IDENTITY_EXTENSION: Final = f"{_SD}/Extension-Signpost-GenderIdentity"
PRIMARY_CARE_NETWORK_EXTENSION: Final = f"{_SD}/Extension-Signpost-PrimaryCareNetwork"
CARE_PLAN_REVIEW_EXTENSION: Final = f"{_SD}/Extension-Signpost-CarePlanReview"
AUTHOR_ROLE_EXTENSION: Final = f"{_SD}/Extension-Signpost-AuthorRole"
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
# HL7 v3 ActCode: Encounter.class, and the Consent policy rule (OPTIN, OPTOUT).
V3_ACT_CODE: Final = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
ENCOUNTER_CLASS: Final = V3_ACT_CODE
OBSERVATION_CATEGORY: Final = "http://terminology.hl7.org/CodeSystem/observation-category"
ASSESSMENT_INSTRUMENT: Final = f"{systems.LOCAL_BASE}/CodeSystem/assessment-instrument"
SERVICE_USE: Final = f"{systems.LOCAL_BASE}/CodeSystem/service-use"
SHARED_DECISION_MAKING: Final = f"{systems.LOCAL_BASE}/CodeSystem/shared-decision-making"
PHB_STAGE: Final = f"{systems.LOCAL_BASE}/CodeSystem/personal-health-budget-stage"
PHB_TYPE: Final = f"{systems.LOCAL_BASE}/CodeSystem/personal-health-budget-type"
PHB_AMOUNT_BAND: Final = f"{systems.LOCAL_BASE}/CodeSystem/personal-health-budget-amount-band"
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

# Messages back to the referrer (referral-api's gp_messages): the Bundle's profile, the code
# system of the lifecycle status the message reports, and the referrer's endpoint id system.
REFERRER_MESSAGE_PROFILE: Final = f"{_SD}/SignpostReferrerMessage"
GP_RECORD_ENTRY_PROFILE: Final = f"{_SD}/SignpostGpRecordEntry"
REFERRAL_LIFECYCLE_STATUS: Final = f"{systems.LOCAL_BASE}/CodeSystem/referral-lifecycle-status"
